package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// The pods' streaming subresources. The gateway would wrap each log chunk
// in JSON, so pods/log is served here: raw bytes as text/plain, as
// Kubernetes serves it.
const (
	logPath  = "/api/v1/namespaces/{namespace}/pods/{name}/log"
	execPath = "/api/v1/namespaces/{namespace}/pods/{name}/exec"
)

// registerPodStreams routes GET pods/log to PodService.Log over conn, and
// answers pods/exec, whose SPDY and WebSocket upgrades are not served yet,
// with 501 Not Implemented.
func registerPodStreams(mux *runtime.ServeMux, conn *grpc.ClientConn, log *zap.Logger) error {
	l := &logHandler{mux: mux, pods: corev1.NewPodServiceClient(conn), log: log}
	if err := mux.HandlePath(http.MethodGet, logPath, l.serve); err != nil {
		return fmt.Errorf("route pods/log: %w", err)
	}
	notImplemented := func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		writeStatus(w, log, failure(http.StatusNotImplemented, "NotImplemented",
			"pods/exec over REST (the SPDY or WebSocket upgrade of kubectl exec) is not supported yet; use the gRPC method tugboat.core.v1.PodService/Exec"))
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if err := mux.HandlePath(method, execPath, notImplemented); err != nil {
			return fmt.Errorf("route pods/exec: %w", err)
		}
	}
	return nil
}

// logHandler serves pods/log.
type logHandler struct {
	mux  *runtime.ServeMux
	pods corev1.PodServiceClient
	log  *zap.Logger
}

// serve streams the log as it comes: errors before the first byte are a
// Status with their HTTP code; once the stream is established the answer is
// 200 text/plain, flushed after each chunk when following. The caller going
// away cancels the gRPC stream and with it the kubelet's.
func (l *logHandler) serve(w http.ResponseWriter, r *http.Request, params map[string]string) {
	opts, bad := logOptions(params["namespace"], params["name"], r.URL.Query(), time.Now())
	if bad != nil {
		writeStatus(w, l.log, bad)
		return
	}
	ctx, err := runtime.AnnotateContext(r.Context(), l.mux, r, corev1.PodService_Log_FullMethodName, runtime.WithHTTPPathPattern(logPath))
	if err != nil {
		writeStatus(w, l.log, failure(http.StatusBadRequest, "BadRequest", err.Error()))
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := l.pods.Log(ctx, opts)
	if err != nil {
		l.fail(w, r, err)
		return
	}
	// No header means the server ended the stream at once: an error, or
	// an empty log.
	ended := false
	if md, _ := stream.Header(); md == nil {
		_, err := stream.Recv()
		if !errors.Is(err, io.EOF) {
			l.fail(w, r, err)
			return
		}
		ended = true
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil || ended {
		return
	}
	for {
		chunk, err := stream.Recv()
		if err != nil {
			// The status is sent: a later error can only end the body.
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				l.log.Debug("log stream ended", zap.String("path", r.URL.Path), zap.Error(err))
			}
			return
		}
		if _, err := w.Write(chunk.GetData()); err != nil {
			return
		}
		if opts.GetFollow() {
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// fail writes a gRPC error as a Status, unless the caller is gone.
func (l *logHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	st := apierr.StatusOf(status.Convert(err))
	if st.GetCode() >= http.StatusInternalServerError && st.GetCode() != http.StatusServiceUnavailable {
		l.log.Error("REST request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
	writeStatus(w, l.log, st)
}

// logOptions reads pods/log's query parameters as Kubernetes does:
// container, follow, previous, timestamps, sinceSeconds, sinceTime (turned
// into sinceSeconds at now), tailLines and limitBytes; others are ignored.
// A malformed value is a 400 naming the parameter.
func logOptions(namespace, name string, q url.Values, now time.Time) (*corev1.PodLogOptions, *metav1.Status) {
	o := &corev1.PodLogOptions{
		Namespace:  namespace,
		Name:       name,
		Container:  q.Get("container"),
		Follow:     queryBool(q, "follow"),
		Previous:   queryBool(q, "previous"),
		Timestamps: queryBool(q, "timestamps"),
	}
	var err error
	if o.SinceSeconds, err = queryInt(q, "sinceSeconds"); err != nil {
		return nil, failure(http.StatusBadRequest, "BadRequest", err.Error())
	}
	if o.TailLines, err = queryInt(q, "tailLines"); err != nil {
		return nil, failure(http.StatusBadRequest, "BadRequest", err.Error())
	}
	if o.LimitBytes, err = queryInt(q, "limitBytes"); err != nil {
		return nil, failure(http.StatusBadRequest, "BadRequest", err.Error())
	}
	if v := q.Get("sinceTime"); v != "" {
		if o.SinceSeconds != nil {
			return nil, failure(http.StatusUnprocessableEntity, "Invalid",
				fmt.Sprintf("PodLogOptions %q is invalid: at most one of `sinceTime` or `sinceSeconds` may be specified", name))
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, failure(http.StatusBadRequest, "BadRequest", fmt.Sprintf("sinceTime: invalid value %q: must be an RFC 3339 time", v))
		}
		secs := int64(math.Ceil(now.Sub(t).Seconds()))
		o.SinceSeconds = &secs
		if secs < 1 {
			*o.SinceSeconds = 1
		}
	}
	return o, nil
}

// queryBool reads a boolean parameter as Kubernetes does: absent, "0" and
// "false" are false, any other value (even empty) is true.
func queryBool(q url.Values, key string) bool {
	vs, ok := q[key]
	if !ok || len(vs) == 0 {
		return false
	}
	return vs[0] != "0" && !strings.EqualFold(vs[0], "false")
}

// queryInt reads an optional integer parameter.
func queryInt(q url.Values, key string) (*int64, error) {
	vs, ok := q[key]
	if !ok || len(vs) == 0 {
		return nil, nil
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid value %q: must be an integer", key, vs[0])
	}
	return &n, nil
}
