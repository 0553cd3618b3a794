package stream

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"
	"k8s.io/client-go/tools/remotecommand"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// errSessionOver refuses output that comes after an exec session ended.
var errSessionOver = errors.New("exec session is over")

// execSession connects one Exec stream to remotecommand's streams: client
// messages become the command's stdin and terminal sizes, its output
// becomes server messages.
type execSession struct {
	srv   grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse]
	start *corev1.PodExecStart

	stdinR *io.PipeReader // nil without stdin
	stdinW *io.PipeWriter
	sizes  chan remotecommand.TerminalSize // the newest size not yet taken
	done   chan struct{}                   // closed by end

	mu     sync.Mutex // serialises Send
	over   bool       // end was called: output is refused
	ending sync.Once
}

func newExecSession(srv grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse], start *corev1.PodExecStart) *execSession {
	e := &execSession{srv: srv, start: start, sizes: make(chan remotecommand.TerminalSize, 1), done: make(chan struct{})}
	if start.GetStdin() {
		e.stdinR, e.stdinW = io.Pipe()
	}
	return e
}

// options are remotecommand's streams for the session; stderr is false
// with a tty, whose output all comes on stdout.
func (e *execSession) options(stderr bool) remotecommand.StreamOptions {
	opts := remotecommand.StreamOptions{Tty: e.start.GetTty()}
	if e.stdinR != nil {
		opts.Stdin = e.stdinR
	}
	if e.start.GetStdout() {
		opts.Stdout = outWriter{e, false}
	}
	if stderr {
		opts.Stderr = outWriter{e, true}
	}
	if e.start.GetTty() {
		opts.TerminalSizeQueue = e
	}
	return opts
}

// receive feeds client messages to the command until the client stops
// sending. It ends the command's input when the client closes stdin or its
// side of the stream.
func (e *execSession) receive() {
	defer e.closeStdin()
	for {
		msg, err := e.srv.Recv()
		if err != nil {
			return
		}
		switch m := msg.GetMsg().(type) {
		case *corev1.PodExecRequest_Stdin:
			if e.stdinW != nil && len(m.Stdin) > 0 {
				// Fails only once the session is over or stdin closed.
				_, _ = e.stdinW.Write(m.Stdin)
			}
		case *corev1.PodExecRequest_CloseStdin:
			if m.CloseStdin {
				e.closeStdin()
			}
		case *corev1.PodExecRequest_Resize:
			if e.start.GetTty() {
				e.resize(remotecommand.TerminalSize{Width: uint16(m.Resize.GetWidth()), Height: uint16(m.Resize.GetHeight())})
			}
		}
	}
}

func (e *execSession) closeStdin() {
	if e.stdinW != nil {
		e.stdinW.Close()
	}
}

// resize queues a terminal size, replacing one not yet taken.
func (e *execSession) resize(s remotecommand.TerminalSize) {
	for {
		select {
		case e.sizes <- s:
			return
		case <-e.done:
			return
		default:
			select {
			case <-e.sizes:
			default:
			}
		}
	}
}

// Next implements remotecommand.TerminalSizeQueue: the next terminal size,
// or nil once the session is over.
func (e *execSession) Next() *remotecommand.TerminalSize {
	select {
	case s := <-e.sizes:
		return &s
	case <-e.done:
		return nil
	}
}

// end stops the session's input and refuses further output.
func (e *execSession) end() {
	e.ending.Do(func() {
		close(e.done)
		// Closing the writing end gives remotecommand's stdin copy a clean
		// EOF and releases a receive blocked writing stdin.
		e.closeStdin()
		e.mu.Lock()
		e.over = true
		e.mu.Unlock()
	})
}

// send sends one message; output after end is refused unless final.
func (e *execSession) send(m *corev1.PodExecResponse, final bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.over && !final {
		return errSessionOver
	}
	return e.srv.Send(m)
}

// outWriter sends what the command writes to stdout or stderr.
type outWriter struct {
	e      *execSession
	stderr bool
}

func (w outWriter) Write(p []byte) (int, error) {
	// remotecommand reuses p; gRPC may hold on to a sent message.
	data := bytes.Clone(p)
	m := &corev1.PodExecResponse{Msg: &corev1.PodExecResponse_Stdout{Stdout: data}}
	if w.stderr {
		m.Msg = &corev1.PodExecResponse_Stderr{Stderr: data}
	}
	if err := w.e.send(m, false); err != nil {
		return 0, err
	}
	return len(p), nil
}
