package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestPodExecGRPC checks an interactive exec session end to end.
func TestPodExecGRPC(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	s.kubelet.SetExitCode(3)
	stream := s.exec(t, ctx(t), &corev1.PodExecStart{Name: "multi", Container: "b", Command: []string{"sh", "-c", "cat"}, Stdin: true, Stdout: true, Stderr: true})
	// The echo comes back before the input ends: the session is interactive.
	if err := stream.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Stdin{Stdin: []byte("hello\n")}}); err != nil {
		t.Fatalf("send stdin: %v", err)
	}
	var echoed, stderr string
	for !strings.Contains(echoed, "hello\n") {
		r, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv before the end of input: %v (stdout so far %q)", err, echoed)
		}
		echoed += string(r.GetStdout())
		stderr += string(r.GetStderr())
	}
	for _, req := range []*corev1.PodExecRequest{
		{Msg: &corev1.PodExecRequest_Resize{Resize: &corev1.TerminalSize{Width: 80, Height: 24}}},
		{Msg: &corev1.PodExecRequest_Stdin{Stdin: []byte("world\n")}},
		{Msg: &corev1.PodExecRequest_CloseStdin{CloseStdin: true}},
	} {
		if err := stream.Send(req); err != nil {
			t.Fatalf("send %v: %v", req, err)
		}
	}
	out, err := readExec(stream)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	out.stderr = stderr + out.stderr
	if out.stdout != "world\n" || out.stderr != "argc=3\n" || !out.exited || out.exitCode != 3 {
		t.Fatalf("exec answered %+v, want the echo, stderr argc=3 and exit code 3", out)
	}
	starts := s.kubelet.ExecStarts()
	if len(starts) != 1 || starts[0].Namespace != "default" || starts[0].Name != "multi" || starts[0].Container != "b" ||
		strings.Join(starts[0].Command, " ") != "sh -c cat" || !starts[0].Stdin || starts[0].Tty {
		t.Fatalf("kubelet got starts %v", starts)
	}

	// The only container is chosen when none is named, and a command
	// without input ends when the caller half-closes.
	s.kubelet.SetExitCode(0)
	stream = s.exec(t, ctx(t), &corev1.PodExecStart{Name: "web", Command: []string{"true"}, Stdout: true})
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("close send: %v", err)
	}
	if out, err := readExec(stream); err != nil || !out.exited || out.exitCode != 0 {
		t.Fatalf("exec true = %+v, %v", out, err)
	}
	if starts := s.kubelet.ExecStarts(); starts[1].Container != "app" {
		t.Fatalf("kubelet got container %q, want app", starts[1].Container)
	}
}

// TestPodExecGRPCErrors checks the errors of PodService.Exec, the protocol
// violations and the kubelet's own errors.
func TestPodExecGRPCErrors(t *testing.T) {
	t.Parallel()
	s := startStreams(t)
	start := func(name, container string, command ...string) *corev1.PodExecRequest {
		return &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: &corev1.PodExecStart{
			Namespace: "default", Name: name, Container: container, Command: command, Stdout: true}}}
	}
	tests := []struct {
		name string
		reqs []*corev1.PodExecRequest
		code codes.Code
		msg  string
	}{
		{"no start", []*corev1.PodExecRequest{{Msg: &corev1.PodExecRequest_Stdin{Stdin: []byte("x")}}}, codes.InvalidArgument, "the first message of an exec session must be start"},
		{"nothing", nil, codes.InvalidArgument, "the first message of an exec session must be start"},
		{"no command", []*corev1.PodExecRequest{start("web", "")}, codes.InvalidArgument, "you must specify at least 1 command"},
		{"unknown pod", []*corev1.PodExecRequest{start("nope", "", "ls")}, codes.NotFound, `pods "nope" not found`},
		{"unscheduled", []*corev1.PodExecRequest{start("pending", "", "ls")}, codes.FailedPrecondition, "pod pending does not have a host assigned"},
		{"container needed", []*corev1.PodExecRequest{start("multi", "", "ls")}, codes.InvalidArgument, "a container name must be specified for pod multi, choose one of: [a b]"},
		{"unknown container", []*corev1.PodExecRequest{start("multi", "c", "ls")}, codes.InvalidArgument, "container c is not valid for pod multi"},
		{"second start", []*corev1.PodExecRequest{start("web", "", "cat"), start("web", "", "cat")}, codes.InvalidArgument, "one start message"},
		{"kubelet down", []*corev1.PodExecRequest{start("unreachable", "", "ls")}, codes.Unavailable, `node "node-down"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, err := s.cs.Pods().Exec(ctx(t))
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			for _, r := range tt.reqs {
				if err := stream.Send(r); err != nil {
					break // the server already answered; Recv says how
				}
			}
			_ = stream.CloseSend()
			_, err = readExec(stream)
			wantCode(t, err, tt.code, tt.name)
			if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.msg) {
				t.Fatalf("message %q, want it to contain %q", msg, tt.msg)
			}
		})
	}

	s.kubelet.SetExecError(status.Error(codes.FailedPrecondition, "container app is not running"))
	stream := s.exec(t, ctx(t), &corev1.PodExecStart{Name: "web", Command: []string{"ls"}, Stdout: true})
	_, err := readExec(stream)
	wantCode(t, err, codes.FailedPrecondition, "kubelet error")
	if msg := status.Convert(err).Message(); msg != "container app is not running" {
		t.Fatalf("kubelet error message %q", msg)
	}
}

// TestPodExecCancel checks that either side going away ends both streams
// and leaves no goroutine behind. It is not parallel, so that the
// goroutines it counts are its own.
func TestPodExecCancel(t *testing.T) {
	s := startStreams(t)
	for i := range 5 {
		c, cancel := context.WithCancel(ctx(t))
		stream := s.exec(t, c, &corev1.PodExecStart{Name: "web", Command: []string{"cat"}, Stdin: true, Stdout: true})
		if err := stream.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Stdin{Stdin: []byte("ping")}}); err != nil {
			t.Fatalf("send stdin: %v", err)
		}
		if r, err := stream.Recv(); err != nil || string(r.GetStdout()) != "ping" {
			t.Fatalf("session %d: echo = %v, %v", i, r, err)
		}
		cancel()
		if _, err := readExec(stream); status.Code(err) != codes.Canceled {
			t.Fatalf("session %d after cancel: %v, want Canceled", i, err)
		}
	}
	waitKubeletIdle(t, s.kubelet, "after the callers cancelled")
	waitNoStreamGoroutines(t, "after the callers cancelled")

	// The kubelet ending a session (here: failing it at once) ends the
	// caller's stream, which then has nothing left running either.
	s.kubelet.SetExecError(status.Error(codes.Internal, "runtime exploded"))
	stream := s.exec(t, ctx(t), &corev1.PodExecStart{Name: "web", Command: []string{"cat"}, Stdin: true, Stdout: true})
	if _, err := readExec(stream); status.Code(err) != codes.Internal {
		t.Fatalf("session failed by the kubelet: %v, want Internal", err)
	}
	waitNoStreamGoroutines(t, "after the kubelet ended the session")
}
