// Package audit logs every mutating request (create, update, patch,
// delete, deletecollection, and the subresources that change something:
// binding, status, scale, exec) as one JSON line, Kubernetes' audit.k8s.io/v1
// Event at the Metadata level: the user and groups, verb, resource,
// subresource, namespace, name, response code and latency. Lines go to a
// file rotated by size (lumberjack), or to stdout.
package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Options place and rotate the log.
type Options struct {
	// Path is the file; "-" writes to stdout.
	Path string
	// MaxSizeMB rotates the file at this size (100 when 0).
	MaxSizeMB int
	// MaxBackups old files are kept (0 keeps all).
	MaxBackups int
	// MaxAgeDays removes old files older than this (0 keeps them).
	MaxAgeDays int
}

// Logger writes audit events.
type Logger struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	events *prometheus.CounterVec
	errors prometheus.Counter
}

// New opens the log; reg (may be nil) gets its metrics.
func New(o Options, reg prometheus.Registerer) (*Logger, error) {
	l := &Logger{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tugboat_apiserver_audit_events_total", Help: "Audit events written, by verb."}, []string{"verb"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "tugboat_apiserver_audit_errors_total", Help: "Audit events that could not be written."}),
	}
	if reg != nil {
		reg.MustRegister(l.events, l.errors)
	}
	switch o.Path {
	case "":
		return nil, fmt.Errorf("audit: a log path is required")
	case "-":
		l.w = os.Stdout
	default:
		f, err := os.OpenFile(o.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open --audit-log-path: %w", err)
		}
		_ = f.Close()
		if o.MaxSizeMB <= 0 {
			o.MaxSizeMB = 100
		}
		lj := &lumberjack.Logger{Filename: o.Path, MaxSize: o.MaxSizeMB, MaxBackups: o.MaxBackups, MaxAge: o.MaxAgeDays}
		l.w, l.closer = lj, lj
	}
	return l, nil
}

// Close closes the file.
func (l *Logger) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// Event is one audit line: Kubernetes' audit.k8s.io/v1 Event, Metadata level.
type Event struct {
	Kind                     string          `json:"kind"`
	APIVersion               string          `json:"apiVersion"`
	Level                    string          `json:"level"`
	Stage                    string          `json:"stage"`
	RequestURI               string          `json:"requestURI"`
	Verb                     string          `json:"verb"`
	User                     UserInfo        `json:"user"`
	ObjectRef                *ObjectRef      `json:"objectRef,omitempty"`
	ResponseStatus           ResponseStatus  `json:"responseStatus"`
	RequestReceivedTimestamp time.Time       `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time       `json:"stageTimestamp"`
	LatencySeconds           float64         `json:"latencySeconds"`
	Annotations              json.RawMessage `json:"annotations,omitempty"`
}

// UserInfo is who made the request.
type UserInfo struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
}

// ObjectRef is what the request was about.
type ObjectRef struct {
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
}

// ResponseStatus is the HTTP code of the answer and, for a failure, its message.
type ResponseStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
}

// Log writes e as one line.
func (l *Logger) Log(e *Event) {
	e.Kind, e.APIVersion, e.Level, e.Stage = "Event", "audit.k8s.io/v1", "Metadata", "ResponseComplete"
	b, err := json.Marshal(e)
	if err != nil {
		l.errors.Inc()
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	_, err = l.w.Write(b)
	l.mu.Unlock()
	if err != nil {
		l.errors.Inc()
		return
	}
	l.events.WithLabelValues(e.Verb).Inc()
}
