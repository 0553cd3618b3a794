package fakeruntime

import (
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// EventType names a change in the runtime.
type EventType string

// The events a Runtime reports to OnEvent hooks.
const (
	SandboxRun       EventType = "SandboxRun"
	SandboxStopped   EventType = "SandboxStopped"
	SandboxRemoved   EventType = "SandboxRemoved"
	ContainerCreated EventType = "ContainerCreated"
	ContainerStarted EventType = "ContainerStarted"
	ContainerExited  EventType = "ContainerExited" // stopped, killed or exited by itself
	ContainerRemoved EventType = "ContainerRemoved"
	ImagePulled      EventType = "ImagePulled"
	ImageRemoved     EventType = "ImageRemoved"
)

// Event is one change, as seen by an OnEvent hook.
type Event struct {
	Type EventType
	// ID is the sandbox, container or image id.
	ID string
	// SandboxID is the container's sandbox for container events.
	SandboxID string
	// Name is "namespace/name" of the pod for sandbox events and the
	// container name for container events.
	Name string
	// Image is the image reference for container and image events.
	Image string
	// ExitCode and Reason are set for ContainerExited.
	ExitCode int32
	Reason   string
	Time     time.Time
}

// eventsBuffer is how many CRI events a GetContainerEvents stream may lag
// behind before it is ended with ResourceExhausted.
const eventsBuffer = 256

// subscriber is one GetContainerEvents stream.
type subscriber struct {
	ch     chan *runtimeapi.ContainerEventResponse
	lagged chan struct{} // closed when ch overflowed
}

// OnEvent registers fn to be called for every later event, in order. Hooks
// run after the change is made and the lock released, so they may call the
// Runtime; they run on the goroutine of some gRPC call, which waits for them.
func (r *Runtime) OnEvent(fn func(Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(slices.Clip(r.hooks), fn)
}

// record queues ev for the hooks. Callers hold r.mu and release it with
// r.unlock, which runs the hooks.
func (r *Runtime) record(ev Event) {
	if len(r.hooks) == 0 {
		return
	}
	ev.Time = time.Now()
	r.pending = append(r.pending, ev)
}

// unlock releases r.mu and runs the hooks for what was recorded meanwhile.
func (r *Runtime) unlock() {
	pending := len(r.pending) > 0
	r.mu.Unlock()
	if pending {
		r.flush()
	}
}

// flush runs the hooks for pending events. One goroutine at a time runs
// hooks, so they see events in order; a goroutine that finds another at it
// leaves its events to that one, which looks again after it is done.
func (r *Runtime) flush() {
	for {
		if !r.hookMu.TryLock() {
			return
		}
		r.mu.Lock()
		evs, hooks := r.pending, r.hooks
		r.pending = nil
		r.mu.Unlock()
		for _, ev := range evs {
			for _, h := range hooks {
				h(ev)
			}
		}
		r.hookMu.Unlock()
		r.mu.Lock()
		more := len(r.pending) > 0
		r.mu.Unlock()
		if !more {
			return
		}
	}
}

// recordContainer records a container event for the hooks and for
// GetContainerEvents streams. Callers hold r.mu.
func (r *Runtime) recordContainer(c *container, typ EventType) {
	r.record(Event{Type: typ, ID: c.id, SandboxID: c.sb.id, Name: c.meta.Name, Image: c.image,
		ExitCode: c.exitCode, Reason: c.reason})
	if len(r.subs) == 0 {
		return
	}
	var t runtimeapi.ContainerEventType
	switch typ {
	case ContainerCreated:
		t = runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT
	case ContainerStarted:
		t = runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT
	case ContainerExited:
		t = runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT
	default:
		t = runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT
	}
	r.publish(c.id, t, c.sb)
}

// recordSandbox is recordContainer for sandboxes; like containerd it uses the
// container event types with the sandbox id.
func (r *Runtime) recordSandbox(sb *sandbox, typ EventType) {
	r.record(Event{Type: typ, ID: sb.id, Name: sb.meta.Namespace + "/" + sb.meta.Name})
	if len(r.subs) == 0 {
		return
	}
	switch typ {
	case SandboxRun:
		r.publish(sb.id, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, sb)
		r.publish(sb.id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT, sb)
	case SandboxStopped:
		r.publish(sb.id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, sb)
	default:
		r.publish(sb.id, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT, sb)
	}
}

func (r *Runtime) publish(id string, t runtimeapi.ContainerEventType, sb *sandbox) {
	ev := &runtimeapi.ContainerEventResponse{
		ContainerId:        id,
		ContainerEventType: t,
		CreatedAt:          nowNano(),
		PodSandboxStatus:   sb.status(),
		ContainersStatuses: sb.containerStatuses(),
	}
	for s := range r.subs {
		select {
		case s.ch <- ev:
		case <-s.lagged:
		default:
			close(s.lagged)
		}
	}
}

// GetContainerEvents streams container and sandbox events until the client
// goes away. A client that falls eventsBuffer events behind gets
// ResourceExhausted and should list again.
func (r *Runtime) GetContainerEvents(_ *runtimeapi.GetEventsRequest, stream grpc.ServerStreamingServer[runtimeapi.ContainerEventResponse]) error {
	s := &subscriber{ch: make(chan *runtimeapi.ContainerEventResponse, eventsBuffer), lagged: make(chan struct{})}
	r.mu.Lock()
	if r.subs == nil {
		r.subs = make(map[*subscriber]struct{})
	}
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.subs, s)
		r.mu.Unlock()
	}()
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case ev := <-s.ch:
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-s.lagged:
			return status.Errorf(codes.ResourceExhausted, "container event stream fell more than %d events behind", eventsBuffer)
		}
	}
}
