//go:build e2e

package stream

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestE2EExec(t *testing.T) {
	h := startContainerd(t)
	id, logPath := h.runPod(t, "exec", "/bin/sleep", "2147483647")
	loc := &mapLocator{m: map[string]Container{"default/exec/c": {ID: id, LogPath: logPath}}}
	c := serve(t, New(h.rt, loc, testLogger(t)))
	start := func(tty, stdin bool, cmd ...string) *corev1.PodExecStart {
		return &corev1.PodExecStart{Namespace: "default", Name: "exec", Container: "c", Command: cmd, Stdin: stdin, Stdout: true, Stderr: true, Tty: tty}
	}

	t.Run("stdout stderr and exit code", func(t *testing.T) {
		r := runExec(t, c, start(false, false, "sh", "-c", "echo out; echo err >&2; exit 3"))
		if r.err != nil || !r.gotCode || r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
			t.Fatalf("got %+v, want stdout out, stderr err, exit 3", r)
		}
	})
	t.Run("exit 0", func(t *testing.T) {
		r := runExec(t, c, start(false, false, "true"))
		if r.err != nil || !r.gotCode || r.code != 0 {
			t.Fatalf("got %+v, want exit 0", r)
		}
	})
	t.Run("stdin until close", func(t *testing.T) {
		r := runExec(t, c, start(false, true, "cat"), stdinMsg("hello\n"), stdinMsg("world\n"), closeStdinMsg)
		if r.err != nil || !r.gotCode || r.code != 0 || r.stdout != "hello\nworld\n" {
			t.Fatalf("got %+v, want cat to echo its input and exit 0", r)
		}
	})
	t.Run("large output in chunks", func(t *testing.T) {
		r := runExec(t, c, start(false, false, "sh", "-c", "seq 1 100000"))
		if r.err != nil || r.code != 0 || !strings.HasSuffix(r.stdout, "\n99999\n100000\n") || strings.Count(r.stdout, "\n") != 100000 {
			t.Fatalf("got %d bytes, code %d, err %v", len(r.stdout), r.code, r.err)
		}
	})
	t.Run("tty with resize", func(t *testing.T) {
		// The size may reach the runtime after the shell starts: poll it.
		script := `i=0; while [ $i -lt 100 ]; do s=$(stty size); [ "$s" = "40 100" ] && break; sleep 0.05; i=$((i+1)); done; echo "size $s"`
		resize := &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Resize{Resize: &corev1.TerminalSize{Width: 100, Height: 40}}}
		r := runExec(t, c, start(true, true, "sh", "-c", script), resize)
		if r.err != nil || r.code != 0 || !strings.Contains(r.stdout, "size 40 100") || r.stderr != "" {
			t.Fatalf("got %+v, want size 40 100 on stdout", r)
		}
	})
	for _, tc := range []struct {
		name string
		cmd  string
		code int32
	}{
		{"missing command by path", "/bin/nope", 127},
		{"missing command in PATH", "nope", 127},
		{"directory as command", "/tmp", 126},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runExec(t, c, start(false, false, tc.cmd, "arg"))
			t.Logf("exec %s: stderr %q, exit %d, err %v", tc.cmd, r.stderr, r.code, r.err)
			if r.err != nil || !r.gotCode || r.code != tc.code || !strings.Contains(r.stderr, strconv.Quote(tc.cmd)) {
				t.Fatalf("got %+v, want exit %d and stderr naming %q", r, tc.code, tc.cmd)
			}
		})
	}
	t.Run("exited container", func(t *testing.T) {
		eid, elog := h.runPod(t, "exited", "true")
		waitExited(t, h, eid)
		loc.mu.Lock()
		loc.m["default/exited/c"] = Container{ID: eid, LogPath: elog}
		loc.mu.Unlock()
		r := runExec(t, c, &corev1.PodExecStart{Namespace: "default", Name: "exited", Container: "c", Command: []string{"true"}, Stdout: true})
		t.Logf("exec in exited container: %v", r.err)
		if status.Code(r.err) != codes.FailedPrecondition || !strings.Contains(r.err.Error(), "not running") {
			t.Fatalf("got %+v, want an error", r)
		}
	})
}

// waitExited polls until the runtime reports the container exited.
func waitExited(t *testing.T, h *criHarness, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := h.rt.ContainerStatus(context.Background(), &runtimeapi.ContainerStatusRequest{ContainerId: id})
		if err == nil && resp.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_EXITED {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s not exited after 30s: %v %v", id, resp.GetStatus().GetState(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestE2ELog(t *testing.T) {
	h := startContainerd(t)
	// stdout and stderr reach the log through separate pipes: a pause
	// between them keeps their order. The 40,000-byte line is split by
	// containerd into partial records of 16 KiB.
	script := `echo one; sleep 0.2; echo two >&2; sleep 0.2; head -c 40000 /dev/zero | tr '\0' x; echo; for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done`
	id, logPath := h.runPod(t, "log", "sh", "-c", script)
	loc := &mapLocator{m: map[string]Container{"default/log/c": {ID: id, LogPath: logPath}}}
	c := serve(t, New(h.rt, loc, testLogger(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	long := strings.Repeat("x", 40000) + "\n"
	req := func(o *corev1.PodLogOptions) *corev1.PodLogOptions {
		o.Namespace, o.Name, o.Container = "default", "log", "c"
		return o
	}

	// Follow ends by itself when the container exits.
	got, _, err := readLog(ctx, c, req(&corev1.PodLogOptions{Follow: true}))
	want := "one\ntwo\n" + long + "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n"
	if err != nil || got != want {
		t.Fatalf("follow: got %q, %v; want %q", tail(got, 200), err, tail(want, 200))
	}
	raw, err := os.ReadFile(logPath)
	if err != nil || strings.Count(string(raw), " stdout P ") == 0 {
		t.Fatalf("want partial records in the CRI log file, got %v:\n%s", err, tail(string(raw), 300))
	}

	got, _, err = readLog(ctx, c, req(&corev1.PodLogOptions{TailLines: ptr(int64(6))}))
	if err != nil || got != long+"tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n" {
		t.Fatalf("tail 6: got %q, %v", tail(got, 200), err)
	}

	got, _, err = readLog(ctx, c, req(&corev1.PodLogOptions{Timestamps: true, TailLines: ptr(int64(6))}))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if err != nil || len(lines) != 6 {
		t.Fatalf("timestamps: got %d lines, %v", len(lines), err)
	}
	for _, l := range lines {
		ts, text, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || strings.Contains(text, "stdout") {
			t.Fatalf("timestamps: line %q", tail(l, 100))
		}
	}
}
