package fakeruntime

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// LogLine is a line a container writes to its log.
type LogLine struct {
	// Stream is "stdout" (the default) or "stderr".
	Stream string
	// Text is the line; a text with newlines makes several lines.
	Text string
}

// formatLog appends lines in the CRI log format the kubelet reads:
//
//	2016-10-06T00:17:09.669794202Z stdout F text
func formatLog(buf []byte, t time.Time, lines []LogLine) []byte {
	ts := t.UTC().Format(time.RFC3339Nano)
	for _, l := range lines {
		stream := l.Stream
		if stream == "" {
			stream = string(runtimeapi.Stdout)
		}
		for text := range strings.SplitSeq(strings.TrimSuffix(l.Text, "\n"), "\n") {
			buf = append(buf, ts...)
			buf = append(buf, ' ')
			buf = append(buf, stream...)
			buf = append(buf, ' ')
			buf = append(buf, runtimeapi.LogTagFull...)
			buf = append(buf, ' ')
			buf = append(buf, text...)
			buf = append(buf, '\n')
		}
	}
	return buf
}

// appendLog creates the log file (and its directory) if needed and appends
// lines to it in one write.
func appendLog(path string, t time.Time, lines []LogLine) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if len(lines) > 0 {
		if _, err := f.Write(formatLog(nil, t, lines)); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// WriteLog appends lines to a container's log now, as if it printed them.
// It fails for an unknown container or one without a log path.
func (r *Runtime) WriteLog(id string, lines ...LogLine) error {
	r.mu.Lock()
	c := r.containers[id]
	var path string
	if c != nil {
		path = c.logPath
	}
	r.mu.Unlock()
	switch {
	case c == nil:
		return notFound("container", id)
	case path == "" || r.cfg.DiscardLogs:
		return status.Errorf(codes.FailedPrecondition, "container %q has no log file", id)
	}
	if err := appendLog(path, time.Now(), lines); err != nil {
		return status.Errorf(codes.Internal, "write log of container %q: %v", id, err)
	}
	return nil
}
