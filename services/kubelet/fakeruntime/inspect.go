package fakeruntime

import (
	"cmp"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Counters count what the kubelet asked of the runtime, for assertions. The
// first group are totals since New; the last group are current numbers.
type Counters struct {
	SandboxesRun, SandboxesStopped, SandboxesRemoved int
	// ContainersStopped counts StopContainer calls that ended a running
	// container; ContainersExited counts every end (stop, kill, exit).
	ContainersCreated, ContainersStarted, ContainersStopped, ContainersExited, ContainersRemoved int
	// CreateFailures counts CreateContainer calls refused for a missing image
	// or command or by the SetCreateContainerError predicate.
	CreateFailures                                 int
	ImagesPulled, ImagePullFailures, ImagesRemoved int
	ExecSyncs                                      int

	Sandboxes, ReadySandboxes, Containers, RunningContainers, Images int
}

// Counters returns the counters now.
func (r *Runtime) Counters() Counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counters
	c.Sandboxes, c.Containers, c.Images = len(r.sandboxes), len(r.containers), r.images.count
	for _, sb := range r.sandboxes {
		if sb.state == runtimeapi.PodSandboxState_SANDBOX_READY {
			c.ReadySandboxes++
		}
	}
	for _, ct := range r.containers {
		if ct.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
			c.RunningContainers++
		}
	}
	return c
}

// SandboxInfo is a copy of a sandbox's state.
type SandboxInfo struct {
	ID                   string
	Name, Namespace, UID string
	Attempt              uint32
	State                runtimeapi.PodSandboxState
	IP                   string // "" when not READY or host network
	Labels, Annotations  map[string]string
	LogDirectory         string
	RuntimeHandler       string
	ContainerIDs         []string
	// DNS is the resolv.conf the sandbox was asked for (nil: none).
	DNS *runtimeapi.DNSConfig
}

// ContainerInfo is a copy of a container's state.
type ContainerInfo struct {
	ID, SandboxID                 string
	Name                          string
	Attempt                       uint32
	PodName, PodNamespace, PodUID string
	Image, ImageID                string
	Command, Args                 []string
	// Envs are the container's environment, KEY=value in the order given.
	Envs                []string
	Labels, Annotations map[string]string
	LogPath             string
	State               runtimeapi.ContainerState
	ExitCode            int32
	Reason, Message     string
}

func (sb *sandbox) info() SandboxInfo {
	st := sb.status()
	ids := make([]string, len(sb.containers))
	for i, c := range sb.containers {
		ids[i] = c.id
	}
	return SandboxInfo{
		ID: sb.id, Name: sb.meta.Name, Namespace: sb.meta.Namespace, UID: sb.meta.Uid, Attempt: sb.meta.Attempt,
		State: sb.state, IP: st.Network.Ip, Labels: st.Labels, Annotations: st.Annotations,
		LogDirectory: sb.logDir, RuntimeHandler: sb.handler, ContainerIDs: ids,
		DNS: proto.CloneOf(sb.dns),
	}
}

func (c *container) info() ContainerInfo {
	return ContainerInfo{
		ID: c.id, SandboxID: c.sb.id, Name: c.meta.Name, Attempt: c.meta.Attempt,
		PodName: c.sb.meta.Name, PodNamespace: c.sb.meta.Namespace, PodUID: c.sb.meta.Uid,
		Image: c.image, ImageID: c.imageID,
		Command: slices.Clone(c.command), Args: slices.Clone(c.args), Envs: slices.Clone(c.envs),
		Labels: maps.Clone(c.labels), Annotations: maps.Clone(c.annotations),
		LogPath: c.logPath, State: c.state, ExitCode: c.exitCode, Reason: c.reason, Message: c.message,
	}
}

// Sandboxes returns every sandbox, oldest first.
func (r *Runtime) Sandboxes() []SandboxInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	sbs := slices.Collect(maps.Values(r.sandboxes))
	slices.SortFunc(sbs, func(a, b *sandbox) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]SandboxInfo, len(sbs))
	for i, sb := range sbs {
		out[i] = sb.info()
	}
	return out
}

// Containers returns every container, oldest first.
func (r *Runtime) Containers() []ContainerInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := slices.Collect(maps.Values(r.containers))
	slices.SortFunc(cs, bySeq)
	out := make([]ContainerInfo, len(cs))
	for i, c := range cs {
		out[i] = c.info()
	}
	return out
}

// Container returns the container with the id.
func (r *Runtime) Container(id string) (ContainerInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.containers[id]; c != nil {
		return c.info(), true
	}
	return ContainerInfo{}, false
}

// FindContainer returns the newest container (highest attempt) with the name
// in a pod, looked up by the pod's namespace and name as a test knows them.
func (r *Runtime) FindContainer(namespace, pod, name string) (ContainerInfo, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best *container
	for _, c := range r.containers {
		if c.meta.Name != name || c.sb.meta.Namespace != namespace || c.sb.meta.Name != pod {
			continue
		}
		if best == nil || c.meta.Attempt > best.meta.Attempt ||
			(c.meta.Attempt == best.meta.Attempt && c.seq > best.seq) {
			best = c
		}
	}
	if best == nil {
		return ContainerInfo{}, false
	}
	return best.info(), true
}
