package fakeruntime

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ExecResult is the outcome of an ExecSync. A non-nil Err fails the call
// (a gRPC status error as is, another error as Unknown), for example a
// DeadlineExceeded status to simulate a probe timing out.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
	Err            error
}

// ExecFunc decides the result of running cmd in container c.
type ExecFunc func(c ContainerInfo, cmd []string) ExecResult

// SetExecFunc programs ExecSync (exec probes, `tug exec` without a
// terminal). Without one, every command succeeds with no output. fn runs
// without the Runtime's lock held and may call it.
func (r *Runtime) SetExecFunc(fn ExecFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.execFunc = fn
}

// ExecSync runs cmd in a RUNNING container through the ExecFunc.
func (r *Runtime) ExecSync(_ context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	id := req.GetContainerId()
	if len(req.GetCmd()) == 0 {
		return nil, invalid("exec in container %q: no command", id)
	}
	r.mu.Lock()
	c := r.containers[id]
	if c == nil {
		r.mu.Unlock()
		return nil, notFound("container", id)
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		r.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "container %q is %s, not RUNNING", id, stateName(c.state))
	}
	r.counters.ExecSyncs++
	fn := r.execFunc
	var info ContainerInfo
	if fn != nil {
		info = c.info()
	}
	r.mu.Unlock()
	if fn == nil {
		return &runtimeapi.ExecSyncResponse{}, nil
	}
	res := fn(info, append([]string(nil), req.GetCmd()...))
	if res.Err != nil {
		if _, ok := status.FromError(res.Err); ok {
			return nil, res.Err
		}
		return nil, status.Errorf(codes.Unknown, "exec in container %q: %v", id, res.Err)
	}
	return &runtimeapi.ExecSyncResponse{Stdout: res.Stdout, Stderr: res.Stderr, ExitCode: res.ExitCode}, nil
}
