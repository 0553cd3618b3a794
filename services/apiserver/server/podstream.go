package server

import (
	"context"
	"errors"
	"io"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Log streams a container's log from the pod's kubelet (pods/log) until the
// kubelet ends the stream or the caller goes away, which cancels the
// kubelet's stream.
func (p *podService) Log(opts *corev1.PodLogOptions, stream grpc.ServerStreamingServer[corev1.PodLogChunk]) error {
	if errs := validateLogOptions(opts); len(errs) > 0 {
		return apierr.Invalid("PodLogOptions", opts.GetName(), errs)
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	t, err := p.target(ctx, opts.GetNamespace(), opts.GetName(), opts.GetContainer())
	if err != nil {
		return err
	}
	req := proto.CloneOf(opts)
	req.Namespace, req.Name, req.Container = t.namespace, t.pod, t.container
	in, err := t.client.Log(ctx, req)
	if err != nil {
		return t.upstream(err)
	}
	if err := relayHeader(in, stream); err != nil {
		return err
	}
	for {
		chunk, err := in.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return t.upstream(err)
		}
		if err := stream.Send(chunk); err != nil {
			return err
		}
	}
}

// validateLogOptions checks the options as Kubernetes does.
func validateLogOptions(o *corev1.PodLogOptions) validation.List {
	var errs validation.List
	if o.TailLines != nil && o.GetTailLines() < 0 {
		errs = append(errs, validation.Error{Field: "tailLines", Type: validation.Invalid, Value: o.GetTailLines(), Detail: "must be greater than or equal to 0"})
	}
	if o.SinceSeconds != nil && o.GetSinceSeconds() < 1 {
		errs = append(errs, validation.Error{Field: "sinceSeconds", Type: validation.Invalid, Value: o.GetSinceSeconds(), Detail: "must be greater than 0"})
	}
	if o.LimitBytes != nil && o.GetLimitBytes() < 1 {
		errs = append(errs, validation.Error{Field: "limitBytes", Type: validation.Invalid, Value: o.GetLimitBytes(), Detail: "must be greater than 0"})
	}
	return errs
}

// relayHeader waits until the kubelet accepted a stream (it sent its header
// or a first message) and then sends the caller the apiserver's header, so
// the caller (the REST log handler) learns that the stream is established
// before the first chunk. When the kubelet ended the stream instead, nothing
// is sent: the next Recv returns the kubelet's status.
func relayHeader(in grpc.ClientStream, out grpc.ServerStream) error {
	if md, err := in.Header(); err != nil || md == nil {
		return nil
	}
	return out.SendHeader(nil)
}

// errNoStart answers an exec session that does not begin with its start.
var errNoStart = apierr.BadRequest("the first message of an exec session must be start")

// Exec runs a command in a container through the pod's kubelet (pods/exec).
// The first request must be the start; then input flows to the kubelet and
// output to the caller until the kubelet sends the exit code or ends the
// stream. Either side going away ends both streams.
func (p *podService) Exec(stream grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse]) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return errNoStart
	}
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return errNoStart
	}
	if len(start.GetCommand()) == 0 {
		return apierr.BadRequest("you must specify at least 1 command")
	}
	if !start.GetStdin() && !start.GetStdout() && !start.GetStderr() {
		return apierr.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	t, err := p.target(ctx, start.GetNamespace(), start.GetName(), start.GetContainer())
	if err != nil {
		return err
	}
	up, err := t.client.Exec(ctx)
	if err != nil {
		return t.upstream(err)
	}
	s := proto.CloneOf(start)
	s.Namespace, s.Name, s.Container = t.namespace, t.pod, t.container
	// io.EOF means the kubelet ended the stream: Recv below returns why.
	if err := up.Send(&corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: s}}); err != nil && !errors.Is(err, io.EOF) {
		return t.upstream(err)
	}
	// Input flows at once: a command may say nothing (and its kubelet send
	// no header) until it has read some. The input goroutine ends when the
	// caller half-closes or goes away, when the kubelet stream ends
	// (cancel), or when this handler returns (grpc-go then fails its
	// Recv). inErr has room for its one result.
	inErr := make(chan error, 1)
	go func() {
		err := forwardInput(stream, up)
		inErr <- err
		if err != nil {
			cancel()
		}
	}()
	if err := relayHeader(up, stream); err != nil {
		return err
	}
	for {
		resp, err := up.Recv()
		if err != nil {
			// A caller that broke the protocol cancelled the kubelet's
			// stream: report its error rather than the cancellation.
			select {
			case e := <-inErr:
				if e != nil {
					return e
				}
			default:
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return t.upstream(err)
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		if _, ok := resp.GetMsg().(*corev1.PodExecResponse_ExitCode); ok {
			drain(up, cancel)
			return nil
		}
	}
}

// drainTimeout is how long a kubelet may take to end its stream after the
// exit code before the apiserver cancels it.
const drainTimeout = 5 * time.Second

// drain reads the kubelet's stream to its end after the exit code, so that
// it ends as the kubelet ends it (and is counted so), not cancelled; what
// the kubelet sends after the exit code is dropped.
func drain(up grpc.ClientStream, cancel context.CancelFunc) {
	t := time.AfterFunc(drainTimeout, cancel)
	defer t.Stop()
	for {
		if err := up.RecvMsg(new(corev1.PodExecResponse)); err != nil {
			return
		}
	}
}

// forwardInput copies the caller's input, resizes and end of input to the
// kubelet until the caller half-closes (passed on as CloseSend) or the
// kubelet stream ends. It returns the caller's error, or one for a second
// start.
func forwardInput(in grpc.BidiStreamingServer[corev1.PodExecRequest, corev1.PodExecResponse],
	out grpc.BidiStreamingClient[corev1.PodExecRequest, corev1.PodExecResponse]) error {
	for {
		req, err := in.Recv()
		if errors.Is(err, io.EOF) {
			_ = out.CloseSend()
			return nil
		}
		if err != nil {
			return err
		}
		if req.GetStart() != nil {
			return apierr.BadRequest("an exec session has one start message, the first")
		}
		if err := out.Send(req); err != nil {
			// The kubelet stream ended; its status reaches the caller
			// through the output side.
			return nil
		}
	}
}
