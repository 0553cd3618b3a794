package pods

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podRuntime is what the runtime holds for one pod (one UID): its sandboxes
// newest first, and its containers with their statuses.
type podRuntime struct {
	uid        string
	sandboxes  []*runtimeapi.PodSandbox
	containers []*containerInfo
}

// containerInfo is one runtime container with its full status.
type containerInfo struct {
	c      *runtimeapi.Container
	status *runtimeapi.ContainerStatus
}

func (c *containerInfo) name() string { return c.c.GetMetadata().GetName() }

// ready is the newest ready sandbox, or nil.
func (p *podRuntime) ready() *runtimeapi.PodSandbox {
	for _, s := range p.sandboxes {
		if s.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			return s
		}
	}
	return nil
}

// history returns the containers of one name, newest first.
func (p *podRuntime) history(name string) []*containerInfo {
	var out []*containerInfo
	for _, c := range p.containers {
		if c.name() == name {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *containerInfo) int {
		if a.c.GetCreatedAt() != b.c.GetCreatedAt() {
			return cmpInt64(b.c.GetCreatedAt(), a.c.GetCreatedAt())
		}
		return int(b.c.GetMetadata().GetAttempt()) - int(a.c.GetMetadata().GetAttempt())
	})
	return out
}

// running says whether any container runs or any sandbox is ready.
func (p *podRuntime) running() bool {
	if p.ready() != nil {
		return true
	}
	for _, c := range p.containers {
		if c.c.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING {
			return true
		}
	}
	return false
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// statusCache remembers final container statuses (an exited container
// never changes again), so a sync asks the runtime only about the others.
type statusCache struct {
	mu sync.Mutex
	m  map[string]*runtimeapi.ContainerStatus
}

func (s *statusCache) get(id string) *runtimeapi.ContainerStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

func (s *statusCache) put(st *runtimeapi.ContainerStatus) {
	if st.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*runtimeapi.ContainerStatus{}
	}
	s.m[st.GetId()] = st
}

func (s *statusCache) forget(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.m, id)
	}
}

// inspect reads the runtime objects of the pod ns/name, grouped by UID.
func (m *Manager) inspect(ctx context.Context, ns, name string) (map[string]*podRuntime, error) {
	sel := map[string]string{cri.LabelPodNamespace: ns, cri.LabelPodName: name, cri.LabelManagedBy: cri.ManagedBy}
	sbs, err := m.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes of %s/%s: %w", ns, name, err)
	}
	cs, err := m.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	if err != nil {
		return nil, fmt.Errorf("list containers of %s/%s: %w", ns, name, err)
	}
	out := map[string]*podRuntime{}
	get := func(uid string) *podRuntime {
		p := out[uid]
		if p == nil {
			p = &podRuntime{uid: uid}
			out[uid] = p
		}
		return p
	}
	for _, s := range sbs.GetItems() {
		p := get(s.GetLabels()[cri.LabelPodUID])
		p.sandboxes = append(p.sandboxes, s)
	}
	for _, p := range out {
		slices.SortFunc(p.sandboxes, func(a, b *runtimeapi.PodSandbox) int { return cmpInt64(b.GetCreatedAt(), a.GetCreatedAt()) })
	}
	for _, c := range cs.GetContainers() {
		st := m.statuses.get(c.GetId())
		if st == nil {
			resp, err := m.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.GetId()})
			if err != nil {
				return nil, fmt.Errorf("status of container %s: %w", c.GetId(), err)
			}
			st = resp.GetStatus()
			m.statuses.put(st)
		}
		p := get(c.GetLabels()[cri.LabelPodUID])
		p.containers = append(p.containers, &containerInfo{c: c, status: st})
	}
	return out, nil
}
