package fakeruntime

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// container is a container in a sandbox. Its fields are guarded by
// Runtime.mu; labels, annotations, command and args never change after
// creation.
type container struct {
	id          string
	seq         uint64
	sb          *sandbox
	name        string // reserved name, see containerName
	meta        *runtimeapi.ContainerMetadata
	image       string // the image's first tag, else the reference asked for
	imageRef    string // repo digest
	imageID     string
	command     []string
	args        []string
	envs        []string // KEY=value
	labels      map[string]string
	annotations map[string]string
	logPath     string // sandbox log directory + config log path, "" if none
	resources   *runtimeapi.LinuxContainerResources
	stopSignal  runtimeapi.Signal
	behavior    *Behavior

	state                          runtimeapi.ContainerState
	createdAt, startedAt, finished int64
	exitCode                       int32
	reason, message                string
	timer                          *time.Timer   // pending Behavior.ExitAfter
	done                           chan struct{} // closed on exit; made by a waiting StopContainer
}

func bySeq(a, b *container) int { return cmp.Compare(a.seq, b.seq) }

func containerName(sb *sandbox, m *runtimeapi.ContainerMetadata) string {
	return fmt.Sprintf("container/%s/%s_%d", sb.id, m.Name, m.Attempt)
}

func (c *container) status() *runtimeapi.ContainerStatus {
	st := &runtimeapi.ContainerStatus{
		Id:          c.id,
		Metadata:    proto.CloneOf(c.meta),
		State:       c.state,
		CreatedAt:   c.createdAt,
		StartedAt:   c.startedAt,
		FinishedAt:  c.finished,
		ExitCode:    c.exitCode,
		Image:       &runtimeapi.ImageSpec{Image: c.image},
		ImageRef:    c.imageRef,
		ImageId:     c.imageID,
		Reason:      c.reason,
		Message:     c.message,
		Labels:      maps.Clone(c.labels),
		Annotations: maps.Clone(c.annotations),
		LogPath:     c.logPath,
		StopSignal:  c.stopSignal,
	}
	if c.resources != nil {
		st.Resources = &runtimeapi.ContainerResources{Linux: proto.CloneOf(c.resources)}
	}
	return st
}

func (c *container) summary() *runtimeapi.Container {
	return &runtimeapi.Container{
		Id:           c.id,
		PodSandboxId: c.sb.id,
		Metadata:     proto.CloneOf(c.meta),
		Image:        &runtimeapi.ImageSpec{Image: c.image},
		ImageRef:     c.imageRef,
		ImageId:      c.imageID,
		State:        c.state,
		CreatedAt:    c.createdAt,
		Labels:       maps.Clone(c.labels),
		Annotations:  maps.Clone(c.annotations),
	}
}

// executable is what the container would exec: the command, else the args
// (the fake knows no image entrypoint).
func executable(command, args []string) string {
	if len(command) > 0 {
		return command[0]
	}
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

// CreateContainer creates a CREATED container in a READY sandbox from a
// present image. It fails for a missing image (NotFound), a command made
// missing with SetCommandMissing, or what SetCreateContainerError returns.
func (r *Runtime) CreateContainer(_ context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	cfg := req.GetConfig()
	m := cfg.GetMetadata()
	if m.GetName() == "" {
		return nil, invalid("container config needs metadata with a name")
	}
	ref := cfg.GetImage().GetImage()
	if ref == "" {
		return nil, invalid("container %q has no image", m.Name)
	}
	r.mu.Lock()
	hook := r.createErr
	r.mu.Unlock()
	if hook != nil {
		if err := hook(cfg); err != nil {
			r.mu.Lock()
			r.counters.CreateFailures++
			r.mu.Unlock()
			if _, ok := status.FromError(err); ok {
				return nil, err
			}
			return nil, status.Errorf(codes.Unknown, "failed to create container %q: %v", m.Name, err)
		}
	}

	r.mu.Lock()
	defer r.unlock()
	sb := r.sandboxes[req.GetPodSandboxId()]
	if sb == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, status.Errorf(codes.FailedPrecondition, "pod sandbox %q is %s, not READY", sb.id, stateName(sb.state))
	}
	img, err := r.images.lookup(ref)
	if err != nil {
		return nil, err
	}
	if img == nil {
		r.counters.CreateFailures++
		return nil, status.Errorf(codes.NotFound, "image %q not found: pull it before creating container %q", ref, m.Name)
	}
	if exe := executable(cfg.GetCommand(), cfg.GetArgs()); r.commandMissing(img, exe) {
		r.counters.CreateFailures++
		return nil, status.Errorf(codes.FailedPrecondition,
			"failed to create container %q in pod sandbox %q: exec: %q: executable file not found in $PATH", m.Name, sb.id, exe)
	}
	c := &container{
		id:          newID(),
		sb:          sb,
		name:        containerName(sb, m),
		meta:        proto.CloneOf(m),
		image:       ref,
		imageRef:    img.ref(),
		imageID:     img.id,
		command:     slices.Clone(cfg.GetCommand()),
		args:        slices.Clone(cfg.GetArgs()),
		envs:        envStrings(cfg.GetEnvs()),
		labels:      maps.Clone(cfg.GetLabels()),
		annotations: maps.Clone(cfg.GetAnnotations()),
		stopSignal:  cfg.GetStopSignal(),
		behavior:    r.behaviorFor(img),
		state:       runtimeapi.ContainerState_CONTAINER_CREATED,
		createdAt:   nowNano(),
	}
	if len(img.tags) > 0 {
		c.image = img.tags[0]
	}
	if res := cfg.GetLinux().GetResources(); res != nil {
		c.resources = proto.CloneOf(res)
	}
	if lp := cfg.GetLogPath(); lp != "" && (sb.logDir != "" || filepath.IsAbs(lp)) {
		c.logPath = filepath.Join(sb.logDir, lp)
	}
	if id, taken := r.names[c.name]; taken {
		return nil, status.Errorf(codes.AlreadyExists, "container %q attempt %d in pod sandbox %q is already created as %q",
			m.Name, m.Attempt, sb.id, id)
	}
	r.seq++
	c.seq = r.seq
	r.names[c.name] = c.id
	r.containers[c.id] = c
	sb.containers = append(sb.containers, c)
	r.counters.ContainersCreated++
	r.recordContainer(c, ContainerCreated)
	return &runtimeapi.CreateContainerResponse{ContainerId: c.id}, nil
}

// StartContainer makes a CREATED container RUNNING, writes its
// Behavior.Logs and applies its Behavior.Exit.
func (r *Runtime) StartContainer(_ context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	id := req.GetContainerId()
	check := func() (*container, error) {
		c := r.containers[id]
		if c == nil {
			return nil, notFound("container", id)
		}
		if c.state != runtimeapi.ContainerState_CONTAINER_CREATED {
			return nil, status.Errorf(codes.FailedPrecondition, "container %q is %s, not CREATED", id, stateName(c.state))
		}
		if c.sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
			return nil, status.Errorf(codes.FailedPrecondition, "pod sandbox %q of container %q is %s, not READY",
				c.sb.id, id, stateName(c.sb.state))
		}
		return c, nil
	}
	r.mu.Lock()
	c, err := check()
	var logPath string
	var b *Behavior
	if c != nil {
		logPath, b = c.logPath, c.behavior
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Create the log and write the start lines before the container is seen
	// running, so a reader that waits for the state finds them.
	if logPath != "" && !r.cfg.DiscardLogs {
		if err := appendLog(logPath, time.Now(), b.Logs); err != nil {
			return nil, status.Errorf(codes.Internal, "failed to create log of container %q: %v", id, err)
		}
	}

	r.mu.Lock()
	defer r.unlock()
	if c, err = check(); err != nil {
		return nil, err
	}
	c.state = runtimeapi.ContainerState_CONTAINER_RUNNING
	c.startedAt = nowNano()
	r.counters.ContainersStarted++
	r.recordContainer(c, ContainerStarted)
	if b.Exit {
		if b.ExitAfter <= 0 {
			r.markExited(c, b.ExitCode, b.ExitReason, b.ExitMessage)
		} else if !r.closed {
			c.timer = time.AfterFunc(b.ExitAfter, func() { r.exitByItself(c) })
		}
	}
	return &runtimeapi.StartContainerResponse{}, nil
}

// RemoveContainer kills the container if it runs and removes it. Removing an
// unknown container is not an error.
func (r *Runtime) RemoveContainer(_ context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	r.mu.Lock()
	defer r.unlock()
	if c := r.containers[req.GetContainerId()]; c != nil {
		r.removeContainer(c)
	}
	return &runtimeapi.RemoveContainerResponse{}, nil
}

func (r *Runtime) removeContainer(c *container) {
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		r.markExited(c, exitKilled, "", "")
	}
	c.stopTimer()
	delete(r.containers, c.id)
	delete(r.names, c.name)
	c.sb.containers = slices.DeleteFunc(c.sb.containers, func(x *container) bool { return x == c })
	r.counters.ContainersRemoved++
	r.recordContainer(c, ContainerRemoved)
}

// ContainerStatus returns the container's status.
func (r *Runtime) ContainerStatus(_ context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.containers[req.GetContainerId()]
	if c == nil {
		return nil, notFound("container", req.GetContainerId())
	}
	return &runtimeapi.ContainerStatusResponse{Status: c.status()}, nil
}

// ListContainers lists the containers matching the filter, oldest first.
func (r *Runtime) ListContainers(_ context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	return &runtimeapi.ListContainersResponse{Containers: r.listContainers(req.GetFilter())}, nil
}

// StreamContainers is ListContainers in chunks.
func (r *Runtime) StreamContainers(req *runtimeapi.StreamContainersRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamContainersResponse]) error {
	return sendChunks(r.listContainers(req.GetFilter()), streamChunk, func(c []*runtimeapi.Container) error {
		return stream.Send(&runtimeapi.StreamContainersResponse{Containers: c})
	})
}

func (r *Runtime) listContainers(f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []*container
	r.eachContainer(f.GetId(), f.GetPodSandboxId(), func(c *container) {
		if (f.GetState() == nil || f.GetState().GetState() == c.state) && matchLabels(c.labels, f.GetLabelSelector()) {
			found = append(found, c)
		}
	})
	slices.SortFunc(found, bySeq)
	out := make([]*runtimeapi.Container, len(found))
	for i, c := range found {
		out[i] = c.summary()
	}
	return out
}

// eachContainer calls fn for the containers with the id and in the sandbox,
// each when given, using the indexes. Callers hold r.mu.
func (r *Runtime) eachContainer(id, sandboxID string, fn func(*container)) {
	switch {
	case id != "":
		if c := r.containers[id]; c != nil && (sandboxID == "" || c.sb.id == sandboxID) {
			fn(c)
		}
	case sandboxID != "":
		if sb := r.sandboxes[sandboxID]; sb != nil {
			for _, c := range sb.containers {
				fn(c)
			}
		}
	default:
		for _, c := range r.containers {
			fn(c)
		}
	}
}

// UpdateContainerResources records the new Linux resources of a CREATED or
// RUNNING container; ContainerStatus reports them.
func (r *Runtime) UpdateContainerResources(_ context.Context, req *runtimeapi.UpdateContainerResourcesRequest) (*runtimeapi.UpdateContainerResourcesResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.containers[req.GetContainerId()]
	if c == nil {
		return nil, notFound("container", req.GetContainerId())
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_CREATED && c.state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, status.Errorf(codes.FailedPrecondition, "container %q is %s: cannot update its resources", c.id, stateName(c.state))
	}
	if res := req.GetLinux(); res != nil {
		c.resources = proto.CloneOf(res)
	}
	return &runtimeapi.UpdateContainerResourcesResponse{}, nil
}

// ReopenContainerLog creates the log file again (after the kubelet rotated
// it) for a RUNNING container.
func (r *Runtime) ReopenContainerLog(_ context.Context, req *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	r.mu.Lock()
	c := r.containers[req.GetContainerId()]
	var logPath string
	var err error
	switch {
	case c == nil:
		err = notFound("container", req.GetContainerId())
	case c.state != runtimeapi.ContainerState_CONTAINER_RUNNING:
		err = status.Errorf(codes.FailedPrecondition, "container %q is %s, not RUNNING", c.id, stateName(c.state))
	default:
		logPath = c.logPath
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if logPath != "" && !r.cfg.DiscardLogs {
		if err := appendLog(logPath, time.Now(), nil); err != nil {
			return nil, status.Errorf(codes.Internal, "failed to reopen log of container %q: %v", req.GetContainerId(), err)
		}
	}
	return &runtimeapi.ReopenContainerLogResponse{}, nil
}

// envStrings turns the container's variables into KEY=value strings.
func envStrings(kvs []*runtimeapi.KeyValue) []string {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.GetKey() + "=" + string(kv.GetValue())
	}
	return out
}
