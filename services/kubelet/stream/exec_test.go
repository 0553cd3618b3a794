package stream

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
)

// execResult is what one exec session produced.
type execResult struct {
	stdout, stderr string
	code           int32
	gotCode        bool
	err            error
}

// runExec runs one exec session: start, then the given client messages,
// then reads until the server ends the stream.
func runExec(t *testing.T, c kubeletv1.KubeletServiceClient, start *corev1.PodExecStart, msgs ...*corev1.PodExecRequest) execResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := c.Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: start}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := st.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	var r execResult
	var out, errb strings.Builder
	for {
		resp, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			break
		}
		switch m := resp.GetMsg().(type) {
		case *corev1.PodExecResponse_Stdout:
			out.Write(m.Stdout)
		case *corev1.PodExecResponse_Stderr:
			errb.Write(m.Stderr)
		case *corev1.PodExecResponse_ExitCode:
			if r.gotCode {
				t.Errorf("second exit code %d", m.ExitCode)
			}
			r.code, r.gotCode = m.ExitCode, true
		}
	}
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

func stdinMsg(s string) *corev1.PodExecRequest {
	return &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Stdin{Stdin: []byte(s)}}
}

var closeStdinMsg = &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_CloseStdin{CloseStdin: true}}

func resizeMsg(width, height uint32) *corev1.PodExecRequest {
	return &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Resize{Resize: &corev1.TerminalSize{Width: width, Height: height}}}
}

// execSetup is a Server over a fake runtime whose streaming server runs
// the fake commands of fakeStreaming, with container c of pod ns/p.
func execSetup(t *testing.T) (*fakeRuntime, kubeletv1.KubeletServiceClient) {
	rt := running()
	rt.execURL = fakeStreaming(t)
	loc := &mapLocator{m: map[string]Container{"ns/p/c": {ID: "cid", LogPath: "/nonexistent"}}}
	return rt, serve(t, newTestServer(t, rt, loc))
}

func execStart(tty, stdin bool, cmd ...string) *corev1.PodExecStart {
	return &corev1.PodExecStart{Namespace: "ns", Name: "p", Container: "c", Command: cmd, Stdin: stdin, Stdout: true, Stderr: true, Tty: tty}
}

func TestExec(t *testing.T) {
	rt, c := execSetup(t)
	t.Run("output and exit code", func(t *testing.T) {
		r := runExec(t, c, execStart(false, false, "fail"))
		if r.err != nil || !r.gotCode || r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
			t.Fatalf("got %+v", r)
		}
		rt.mu.Lock()
		req := rt.lastExec
		rt.mu.Unlock()
		if req.GetContainerId() != "cid" || req.GetTty() || req.GetStdin() || !req.GetStdout() || !req.GetStderr() {
			t.Fatalf("CRI ExecRequest %v", req)
		}
	})
	t.Run("stdin until close_stdin", func(t *testing.T) {
		r := runExec(t, c, execStart(false, true, "cat"), stdinMsg("hello "), stdinMsg("world\n"), closeStdinMsg)
		if r.err != nil || !r.gotCode || r.code != 0 || r.stdout != "hello world\n" {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("command not found", func(t *testing.T) {
		r := runExec(t, c, execStart(false, false, "nope"))
		if r.err != nil || !r.gotCode || r.code != 127 || !strings.Contains(r.stderr, `"nope"`) || !strings.Contains(r.stderr, "executable file not found") {
			t.Fatalf("got %+v", r)
		}
	})
	t.Run("tty gets sizes, no stderr", func(t *testing.T) {
		r := runExec(t, c, execStart(true, true, "size"), resizeMsg(100, 40))
		if r.err != nil || r.code != 0 || r.stdout != "40 100\n" {
			t.Fatalf("got %+v", r)
		}
		rt.mu.Lock()
		req := rt.lastExec
		rt.mu.Unlock()
		if !req.GetTty() || req.GetStderr() {
			t.Fatalf("CRI ExecRequest %v: want tty without stderr", req)
		}
	})
	t.Run("large output in chunks", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := c.Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: execStart(false, false, "big", "200000")}})
		total, msgs := 0, 0
		for {
			resp, err := st.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(resp.GetStdout()); n > 0 {
				if n > chunkSize {
					t.Fatalf("a message of %d bytes", n)
				}
				total += n
				msgs++
			}
		}
		if total != 200000 || msgs > 200 {
			t.Fatalf("got %d bytes in %d messages", total, msgs)
		}
	})
}

func TestExecStartErrors(t *testing.T) {
	rt, c := execSetup(t)
	send := func(msgs ...*corev1.PodExecRequest) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := c.Exec(ctx)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			st.Send(m)
		}
		st.CloseSend()
		for {
			if _, err := st.Recv(); err != nil {
				return err
			}
		}
	}
	start := func(s *corev1.PodExecStart) *corev1.PodExecRequest {
		return &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: s}}
	}
	for _, tc := range []struct {
		name    string
		msgs    []*corev1.PodExecRequest
		execErr error
		state   runtimeapi.ContainerState
		code    codes.Code
		msg     string
	}{
		{name: "stdin before start", msgs: []*corev1.PodExecRequest{stdinMsg("x")}, code: codes.InvalidArgument, msg: "first message must be start"},
		{name: "no start at all", code: codes.InvalidArgument, msg: "before its start"},
		{name: "no command", msgs: []*corev1.PodExecRequest{start(execStart(false, false))}, code: codes.InvalidArgument, msg: "command"},
		{name: "no streams", msgs: []*corev1.PodExecRequest{start(&corev1.PodExecStart{Namespace: "ns", Name: "p", Container: "c", Command: []string{"true"}})}, code: codes.InvalidArgument, msg: "stdin, stdout or stderr"},
		{name: "no container", msgs: []*corev1.PodExecRequest{start(&corev1.PodExecStart{Namespace: "ns", Name: "p", Container: "x", Command: []string{"true"}, Stdout: true})}, code: codes.NotFound, msg: `container "x" in pod "p" not found`},
		{name: "container not running", msgs: []*corev1.PodExecRequest{start(execStart(false, false, "true"))}, execErr: status.Error(codes.Unknown, "container is in CONTAINER_EXITED state"), state: runtimeapi.ContainerState_CONTAINER_EXITED, code: codes.FailedPrecondition, msg: "not running"},
		{name: "runtime error keeps its code", msgs: []*corev1.PodExecRequest{start(execStart(false, false, "true"))}, execErr: status.Error(codes.Unavailable, "busy"), state: runtimeapi.ContainerState_CONTAINER_RUNNING, code: codes.Unavailable, msg: `exec "true" in container "c" of pod "p": busy`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt.mu.Lock()
			rt.execErr, rt.state = tc.execErr, tc.state
			rt.mu.Unlock()
			err := send(tc.msgs...)
			if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.code, tc.msg)
			}
		})
	}
	t.Run("streaming URL without host", func(t *testing.T) {
		rt.mu.Lock()
		rt.execErr, rt.execURL = nil, "/exec/token"
		rt.mu.Unlock()
		if err := send(start(execStart(false, false, "true"))); status.Code(err) != codes.Internal {
			t.Fatalf("got %v, want Internal", err)
		}
	})
}

func TestExitCode(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		err     error
		code    int32
		notRun  bool
		errCode codes.Code
	}{
		{name: "success", err: nil, code: 0},
		{name: "exit status", err: utilexec.CodeExitError{Err: errors.New("command terminated with exit code 7"), Code: 7}, code: 7},
		{name: "not found", err: errors.New(`exec: "x": executable file not found in $PATH`), code: 127, notRun: true},
		{name: "no such file", err: errors.New(`exec: "/x": stat /x: no such file or directory`), code: 127, notRun: true},
		{name: "not executable", err: errors.New(`exec: "/tmp": permission denied`), code: 126, notRun: true},
		{name: "other", err: errors.New("unable to upgrade connection"), errCode: codes.Internal},
		{name: "cancelled", ctx: canceled, err: errors.New("whatever"), errCode: codes.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			code, err := exitCode(ctx, tc.err)
			var nr *notStartedError
			switch {
			case tc.notRun:
				if !errors.As(err, &nr) || nr.code != tc.code {
					t.Fatalf("got %d, %v; want not started with %d", code, err, tc.code)
				}
			case tc.errCode != codes.OK:
				if status.Code(err) != tc.errCode {
					t.Fatalf("got %v, want %v", err, tc.errCode)
				}
			default:
				if err != nil || code != tc.code {
					t.Fatalf("got %d, %v; want %d", code, err, tc.code)
				}
			}
		})
	}
}

func TestTerminalSizeQueueKeepsNewest(t *testing.T) {
	e := newExecSession(nil, &corev1.PodExecStart{Tty: true})
	e.resize(remoteSize(10, 20))
	e.resize(remoteSize(30, 40))
	if s := e.Next(); s == nil || s.Width != 30 || s.Height != 40 {
		t.Fatalf("got %v, want the newest size", s)
	}
	e.end()
	if s := e.Next(); s != nil {
		t.Fatalf("got %v after end, want nil", s)
	}
	e.resize(remoteSize(50, 60)) // does not block after end
}

func remoteSize(w, h uint16) remotecommand.TerminalSize {
	return remotecommand.TerminalSize{Width: w, Height: h}
}
