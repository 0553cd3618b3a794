package fakeruntime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// readLog reads a CRI log and checks the format of every line, returning
// "stream text" for each.
func readLog(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		fields := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 4)
		if len(fields) != 4 || fields[2] != "F" {
			t.Fatalf("log line %q is not in the CRI format", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, fields[0]); err != nil || !strings.HasSuffix(fields[0], "Z") {
			t.Fatalf("log line %q: bad timestamp: %v", line, err)
		}
		out = append(out, fields[1]+" "+fields[3])
	}
	return out
}

func TestLogs(t *testing.T) {
	e := start(t, Config{})
	if err := e.rt.SetBehavior("tugboat.local/app:v1", Behavior{Logs: []LogLine{
		{Text: "listening on :8080"},
		{Stream: "stderr", Text: "warning: no config\nusing defaults\n"},
	}}); err != nil {
		t.Fatal(err)
	}
	e.pull(t, "tugboat.local/app:v1")
	cfg := sandboxConfig("web", "default", nil)
	cfg.LogDirectory = filepath.Join(t.TempDir(), "default_web_uid")
	sb := e.runPod(t, cfg)
	cc := containerConfig("app", "tugboat.local/app:v1")
	cc.LogPath = "app/0.log"
	id := e.create(t, sb, cc)
	path := e.containerStatus(t, id).LogPath
	if want := filepath.Join(cfg.LogDirectory, "app", "0.log"); path != want {
		t.Fatalf("LogPath = %q, want %q", path, want)
	}
	e.startContainer(t, id)
	want := []string{"stdout listening on :8080", "stderr warning: no config", "stderr using defaults"}
	if got := readLog(t, path); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("log = %q, want %q", got, want)
	}

	if err := e.rt.WriteLog(id, LogLine{Text: "GET / 200"}); err != nil {
		t.Fatal(err)
	}
	if got := readLog(t, path); len(got) != 4 || got[3] != "stdout GET / 200" {
		t.Fatalf("log after WriteLog = %q", got)
	}

	// The kubelet rotates the file away and asks for it to be reopened.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rs.ReopenContainerLog(e.ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: id}); err != nil {
		t.Fatalf("ReopenContainerLog: %v", err)
	}
	if got := readLog(t, path); len(got) != 0 {
		t.Fatalf("reopened log = %q, want empty", got)
	}
	if err := e.rt.ExitContainer(id, 0, ""); err != nil {
		t.Fatal(err)
	}
	_, err := e.rs.ReopenContainerLog(e.ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: id})
	wantCode(t, err, codes.FailedPrecondition, id)
	wantCode(t, e.rt.WriteLog("nope"), codes.NotFound, `container "nope" not found`)
}

func TestNoLogFile(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		logDir  bool
		logPath string
	}{
		{name: "no log directory", logPath: "app/0.log"},
		{name: "no log path", logDir: true},
		{name: "logs discarded", cfg: Config{DiscardLogs: true}, logDir: true, logPath: "app/0.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, tt.cfg)
			e.pull(t, "tugboat.local/app:v1")
			dir := t.TempDir()
			cfg := sandboxConfig("web", "default", nil)
			if tt.logDir {
				cfg.LogDirectory = dir
			}
			cc := containerConfig("app", "tugboat.local/app:v1")
			cc.LogPath = tt.logPath
			id := e.create(t, e.runPod(t, cfg), cc)
			e.startContainer(t, id)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("log directory has %d entries, want none", len(entries))
			}
			wantCode(t, e.rt.WriteLog(id, LogLine{Text: "x"}), codes.FailedPrecondition, "no log file")
		})
	}
}
