package fakeruntime

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamChunk is how many items one Stream* response carries.
const streamChunk = 500

// sandbox is a pod sandbox. Its fields are guarded by Runtime.mu; labels and
// annotations are never changed after creation.
type sandbox struct {
	id          string
	seq         uint64
	name        string // reserved name, see sandboxName
	meta        *runtimeapi.PodSandboxMetadata
	state       runtimeapi.PodSandboxState
	createdAt   int64
	ip          netip.Addr // held while READY; invalid for host network
	labels      map[string]string
	annotations map[string]string
	logDir      string
	handler     string
	nsOpts      *runtimeapi.NamespaceOption
	dns         *runtimeapi.DNSConfig
	containers  []*container
}

// sandboxName is the name containerd reserves for a sandbox, so a kubelet
// that runs the same attempt twice gets AlreadyExists as it would there.
func sandboxName(m *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("sandbox/%s_%s_%s_%d", m.Name, m.Namespace, m.Uid, m.Attempt)
}

func (sb *sandbox) hostNetwork() bool {
	return sb.nsOpts.GetNetwork() == runtimeapi.NamespaceMode_NODE
}

func (sb *sandbox) status() *runtimeapi.PodSandboxStatus {
	st := &runtimeapi.PodSandboxStatus{
		Id:             sb.id,
		Metadata:       proto.CloneOf(sb.meta),
		State:          sb.state,
		CreatedAt:      sb.createdAt,
		Network:        &runtimeapi.PodSandboxNetworkStatus{},
		Labels:         maps.Clone(sb.labels),
		Annotations:    maps.Clone(sb.annotations),
		RuntimeHandler: sb.handler,
	}
	if sb.state == runtimeapi.PodSandboxState_SANDBOX_READY && sb.ip.IsValid() {
		st.Network.Ip = sb.ip.String()
	}
	if sb.nsOpts != nil {
		st.Linux = &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: proto.CloneOf(sb.nsOpts)}}
	}
	return st
}

func (sb *sandbox) summary() *runtimeapi.PodSandbox {
	return &runtimeapi.PodSandbox{
		Id:             sb.id,
		Metadata:       proto.CloneOf(sb.meta),
		State:          sb.state,
		CreatedAt:      sb.createdAt,
		Labels:         maps.Clone(sb.labels),
		Annotations:    maps.Clone(sb.annotations),
		RuntimeHandler: sb.handler,
	}
}

func (sb *sandbox) containerStatuses() []*runtimeapi.ContainerStatus {
	out := make([]*runtimeapi.ContainerStatus, len(sb.containers))
	for i, c := range sb.containers {
		out[i] = c.status()
	}
	return out
}

// RunPodSandbox creates a READY sandbox with an IP from the pod CIDR (none
// for a host-network pod).
func (r *Runtime) RunPodSandbox(_ context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	cfg := req.GetConfig()
	m := cfg.GetMetadata()
	if m.GetName() == "" || m.GetNamespace() == "" {
		return nil, invalid("pod sandbox config needs metadata with a name and a namespace")
	}
	sb := &sandbox{
		id:          newID(),
		name:        sandboxName(m),
		meta:        proto.CloneOf(m),
		state:       runtimeapi.PodSandboxState_SANDBOX_READY,
		createdAt:   nowNano(),
		labels:      maps.Clone(cfg.GetLabels()),
		annotations: maps.Clone(cfg.GetAnnotations()),
		logDir:      cfg.GetLogDirectory(),
		handler:     req.GetRuntimeHandler(),
	}
	if d := cfg.GetDnsConfig(); d != nil {
		sb.dns = proto.CloneOf(d)
	}
	if o := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions(); o != nil {
		sb.nsOpts = proto.CloneOf(o)
	}
	r.mu.Lock()
	defer r.unlock()
	if id, taken := r.names[sb.name]; taken {
		return nil, status.Errorf(codes.AlreadyExists, "pod sandbox name %q is reserved for %q", sb.name, id)
	}
	if !sb.hostNetwork() {
		ip, err := r.ips.allocate()
		if err != nil {
			return nil, err
		}
		sb.ip = ip
	}
	r.seq++
	sb.seq = r.seq
	r.names[sb.name] = sb.id
	r.sandboxes[sb.id] = sb
	r.counters.SandboxesRun++
	r.recordSandbox(sb, SandboxRun)
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: sb.id}, nil
}

// StopPodSandbox kills the sandbox's running containers (exit code 137),
// releases its IP and makes it NOTREADY. Stopping a stopped or unknown
// sandbox is not an error.
func (r *Runtime) StopPodSandbox(_ context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	r.mu.Lock()
	defer r.unlock()
	if sb := r.sandboxes[req.GetPodSandboxId()]; sb != nil {
		r.stopSandbox(sb)
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}

func (r *Runtime) stopSandbox(sb *sandbox) {
	for _, c := range sb.containers {
		if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
			r.markExited(c, exitKilled, "", "")
		}
	}
	if sb.state != runtimeapi.PodSandboxState_SANDBOX_READY {
		return
	}
	sb.state = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	if sb.ip.IsValid() {
		r.ips.release(sb.ip)
	}
	r.counters.SandboxesStopped++
	r.recordSandbox(sb, SandboxStopped)
}

// RemovePodSandbox stops the sandbox if needed and removes it with its
// containers. Removing an unknown sandbox is not an error.
func (r *Runtime) RemovePodSandbox(_ context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	r.mu.Lock()
	defer r.unlock()
	sb := r.sandboxes[req.GetPodSandboxId()]
	if sb == nil {
		return &runtimeapi.RemovePodSandboxResponse{}, nil
	}
	r.stopSandbox(sb)
	for len(sb.containers) > 0 {
		r.removeContainer(sb.containers[len(sb.containers)-1])
	}
	delete(r.sandboxes, sb.id)
	delete(r.names, sb.name)
	r.counters.SandboxesRemoved++
	r.recordSandbox(sb, SandboxRemoved)
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}

// PodSandboxStatus returns the sandbox's status and its containers'.
func (r *Runtime) PodSandboxStatus(_ context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb := r.sandboxes[req.GetPodSandboxId()]
	if sb == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	return &runtimeapi.PodSandboxStatusResponse{
		Status:             sb.status(),
		ContainersStatuses: sb.containerStatuses(),
		Timestamp:          nowNano(),
	}, nil
}

// ListPodSandbox lists the sandboxes matching the filter, oldest first.
func (r *Runtime) ListPodSandbox(_ context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	return &runtimeapi.ListPodSandboxResponse{Items: r.listSandboxes(req.GetFilter())}, nil
}

// StreamPodSandboxes is ListPodSandbox in chunks.
func (r *Runtime) StreamPodSandboxes(req *runtimeapi.StreamPodSandboxesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamPodSandboxesResponse]) error {
	return sendChunks(r.listSandboxes(req.GetFilter()), streamChunk, func(c []*runtimeapi.PodSandbox) error {
		return stream.Send(&runtimeapi.StreamPodSandboxesResponse{PodSandboxes: c})
	})
}

func (r *Runtime) listSandboxes(f *runtimeapi.PodSandboxFilter) []*runtimeapi.PodSandbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []*sandbox
	match := func(sb *sandbox) bool {
		return (f.GetState() == nil || f.GetState().GetState() == sb.state) &&
			matchLabels(sb.labels, f.GetLabelSelector())
	}
	if id := f.GetId(); id != "" {
		if sb := r.sandboxes[id]; sb != nil && match(sb) {
			found = append(found, sb)
		}
	} else {
		for _, sb := range r.sandboxes {
			if match(sb) {
				found = append(found, sb)
			}
		}
	}
	slices.SortFunc(found, func(a, b *sandbox) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]*runtimeapi.PodSandbox, len(found))
	for i, sb := range found {
		out[i] = sb.summary()
	}
	return out
}

// UpdatePodSandboxResources accepts any resources for an existing sandbox;
// the fake enforces none.
func (r *Runtime) UpdatePodSandboxResources(_ context.Context, req *runtimeapi.UpdatePodSandboxResourcesRequest) (*runtimeapi.UpdatePodSandboxResourcesResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sandboxes[req.GetPodSandboxId()] == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	return &runtimeapi.UpdatePodSandboxResourcesResponse{}, nil
}
