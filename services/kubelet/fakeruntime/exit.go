package fakeruntime

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopContainer stops a RUNNING container the way containerd does: with a
// timeout of zero or less it is killed at once (137); otherwise it gets
// SIGTERM and reacts as its Behavior.Stop says, a StopIgnoreTerm container
// being killed when the timeout runs out while the call waits. Stopping a
// container that is not running is not an error.
func (r *Runtime) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	id := req.GetContainerId()
	r.mu.Lock()
	c := r.containers[id]
	if c == nil {
		r.mu.Unlock()
		return nil, notFound("container", id)
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		r.mu.Unlock()
		return &runtimeapi.StopContainerResponse{}, nil
	}
	timeout := time.Duration(req.GetTimeout()) * time.Second
	mode := c.behavior.Stop
	if timeout <= 0 || mode != StopIgnoreTerm {
		code := int32(exitKilled)
		if timeout > 0 {
			code = exitTerminated
			if mode == StopGraceful {
				code = 0
			}
		}
		r.counters.ContainersStopped++
		r.markExited(c, code, "", "")
		r.unlock()
		return &runtimeapi.StopContainerResponse{}, nil
	}
	// SIGTERM is ignored: wait for the timeout, an exit by other means, or
	// the caller giving up.
	if c.done == nil {
		c.done = make(chan struct{})
	}
	done := c.done
	r.mu.Unlock()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return &runtimeapi.StopContainerResponse{}, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	case <-t.C:
	}
	r.mu.Lock()
	defer r.unlock()
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		r.counters.ContainersStopped++
		r.markExited(c, exitKilled, "", "")
	}
	return &runtimeapi.StopContainerResponse{}, nil
}

// ExitContainer makes a RUNNING container exit by itself with code; reason
// defaults to "Completed" for 0 and "Error" otherwise ("OOMKilled" with 137
// is an out-of-memory kill).
func (r *Runtime) ExitContainer(id string, code int32, reason string) error {
	return r.ExitContainerWithMessage(id, code, reason, "")
}

// ExitContainerWithMessage is ExitContainer with the message the container
// status reports (its termination message).
func (r *Runtime) ExitContainerWithMessage(id string, code int32, reason, message string) error {
	r.mu.Lock()
	defer r.unlock()
	c := r.containers[id]
	if c == nil {
		return notFound("container", id)
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return status.Errorf(codes.FailedPrecondition, "container %q is %s, not RUNNING", id, stateName(c.state))
	}
	r.markExited(c, code, reason, message)
	return nil
}

// exitByItself is the Behavior.ExitAfter timer's function.
func (r *Runtime) exitByItself(c *container) {
	r.mu.Lock()
	defer r.unlock()
	c.timer = nil
	if !r.closed && r.containers[c.id] == c && c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		b := c.behavior
		r.markExited(c, b.ExitCode, b.ExitReason, b.ExitMessage)
	}
}

// markExited makes a running container EXITED. Callers hold r.mu.
func (r *Runtime) markExited(c *container, code int32, reason, message string) {
	if reason == "" {
		reason = "Error"
		if code == 0 {
			reason = "Completed"
		}
	}
	c.state = runtimeapi.ContainerState_CONTAINER_EXITED
	c.finished = nowNano()
	c.exitCode, c.reason, c.message = code, reason, message
	c.stopTimer()
	if c.done != nil {
		close(c.done)
		c.done = nil
	}
	r.counters.ContainersExited++
	r.recordContainer(c, ContainerExited)
}

func (c *container) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
