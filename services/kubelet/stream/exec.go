package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Exec runs a command in a running container. The first client message
// starts it; later ones carry its stdin, terminal sizes and the end of its
// input. The server sends its output and, last, its exit code.
//
// The runtime's CRI Exec answers with a URL on its streaming server
// (containerd serves one on 127.0.0.1), spoken to with SPDY.
func (s *Server) Exec(srv grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse]) error {
	ctx := srv.Context()
	first, err := srv.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "exec: the stream ended before its start message")
	} else if err != nil {
		return err
	}
	start := first.GetStart()
	if err := checkStart(start); err != nil {
		return err
	}
	// With a tty the command's stderr is the terminal: all output is stdout.
	stderr := start.GetStderr() && !start.GetTty()
	ex, err := s.prepareExec(ctx, start, stderr)
	if err != nil {
		return err
	}
	log := s.log.With(zap.String("pod", start.GetNamespace()+"/"+start.GetName()), zap.String("container", start.GetContainer()), zap.String("command", start.GetCommand()[0]))
	log.Debug("exec started", zap.Bool("tty", start.GetTty()), zap.Bool("stdin", start.GetStdin()))
	sess := newExecSession(srv, start)
	go sess.receive()
	err = ex.StreamWithContext(ctx, sess.options(stderr))
	sess.end()
	return finishExec(ctx, sess, err, log)
}

// prepareExec finds the container and asks the runtime for a streaming URL.
func (s *Server) prepareExec(ctx context.Context, start *corev1.PodExecStart, stderr bool) (remotecommand.Executor, error) {
	pod, container, cmd := start.GetName(), start.GetContainer(), start.GetCommand()
	c, err := s.locate(start.GetNamespace(), pod, container, false)
	if err != nil {
		return nil, err
	}
	resp, err := s.rt.Exec(ctx, &runtimeapi.ExecRequest{
		ContainerId: c.ID,
		Cmd:         cmd,
		Tty:         start.GetTty(),
		Stdin:       start.GetStdin(),
		Stdout:      start.GetStdout(),
		Stderr:      stderr,
	})
	if err != nil {
		if state, ok := s.notRunning(ctx, c.ID); ok {
			return nil, status.Errorf(codes.FailedPrecondition, "container %q in pod %q is not running (%s)", container, pod, state)
		}
		return nil, statusError(err, "exec %q in container %q of pod %q", cmd[0], container, pod)
	}
	ex, err := executor(resp.GetUrl())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "exec %q in container %q of pod %q: %v", cmd[0], container, pod, err)
	}
	return ex, nil
}

// finishExec sends the exit code of a session that remotecommand ended
// with err. A command the runtime could not start ends as a shell's would:
// its message on stderr and exit code 127 or 126.
func finishExec(ctx context.Context, sess *execSession, err error, log *zap.Logger) error {
	start := sess.start
	pod, container, cmd := start.GetName(), start.GetContainer(), start.GetCommand()
	code, err := exitCode(ctx, err)
	var notRun *notStartedError
	if errors.As(err, &notRun) {
		log.Info("exec command could not start", zap.String("reason", notRun.msg))
		code, err = notRun.code, nil
		if start.GetStderr() {
			msg := fmt.Sprintf("exec %q in container %q of pod %q: %s\n", cmd[0], container, pod, notRun.msg)
			err = sess.send(&corev1.PodExecResponse{Msg: &corev1.PodExecResponse_Stderr{Stderr: []byte(msg)}}, true)
		}
	}
	if err != nil {
		log.Debug("exec failed", zap.Error(err))
		return status.Errorf(status.Code(err), "exec %q in container %q of pod %q: %v", cmd[0], container, pod, status.Convert(err).Message())
	}
	log.Debug("exec finished", zap.Int32("exitCode", code))
	return sess.send(&corev1.PodExecResponse{Msg: &corev1.PodExecResponse_ExitCode{ExitCode: code}}, true)
}

// notRunning reports whether the runtime knows the container as not
// running, with its state; it explains a failed CRI Exec (containerd answers
// Unknown for a container that exited).
func (s *Server) notRunning(ctx context.Context, id string) (runtimeapi.ContainerState, bool) {
	resp, err := s.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil || resp.GetStatus() == nil {
		return 0, false
	}
	st := resp.GetStatus().GetState()
	return st, st != runtimeapi.ContainerState_CONTAINER_RUNNING
}

// checkStart checks the start message of an exec session.
func checkStart(start *corev1.PodExecStart) error {
	switch {
	case start == nil:
		return status.Error(codes.InvalidArgument, "exec: the first message must be start")
	case len(start.GetCommand()) == 0 || start.GetCommand()[0] == "":
		return status.Error(codes.InvalidArgument, "command: required")
	case !start.GetStdin() && !start.GetStdout() && !start.GetStderr():
		return status.Error(codes.InvalidArgument, "exec: at least one of stdin, stdout or stderr is required")
	}
	return nil
}

// executor connects to a runtime streaming URL with SPDY. The URL is the
// runtime's own (containerd: 127.0.0.1), so no proxy is ever used.
func executor(rawURL string) (remotecommand.Executor, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, errors.New("runtime returned a streaming URL without a host: " + rawURL)
	}
	cfg := &rest.Config{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
	return remotecommand.NewSPDYExecutor(cfg, http.MethodPost, u)
}

// exitCode turns remotecommand's result into the command's exit code, or an
// error when the command did not run to an exit: a *notStartedError when
// the runtime could not start it.
func exitCode(ctx context.Context, err error) (int32, error) {
	var exit utilexec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return int32(exit.ExitStatus()), nil
	case ctx.Err() != nil:
		return 0, status.FromContextError(ctx.Err()).Err()
	}
	msg := strings.TrimPrefix(err.Error(), "Internal error occurred: ")
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 0, &notStartedError{code: 127, msg: msg}
	case strings.Contains(msg, "permission denied"):
		return 0, &notStartedError{code: 126, msg: msg}
	}
	return 0, status.Error(codes.Internal, err.Error())
}

// notStartedError is the runtime's report that it could not start the
// command. containerd 1.6 with runc sends it on the exec's error stream as
// an internal error, without an exit code, e.g. `... OCI runtime exec
// failed: exec failed: unable to start container process: exec: "/x":
// stat /x: no such file or directory: unknown`; code is what a shell
// would exit with: 127 for a command not found, 126 for one not executable.
type notStartedError struct {
	code int32
	msg  string
}

func (e *notStartedError) Error() string { return e.msg }
