package probe

import (
	"context"
	"sync"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// key names one probe of one container of a pod.
type key struct {
	uid, container string
	kind           Kind
}

// Running is a container instance that runs, as the probes need it.
type Running struct {
	Target
	StartedAt time.Time
}

// Config configures a Manager.
type Config struct {
	Checker Checker
	// Clock is the workers' time; the wall clock when nil.
	Clock Clock
	// Changed is called with the pod's key (namespace/name) when one of
	// its probe results changes.
	Changed func(podKey string)
	// Unhealthy is called on every failed probe attempt (for an Event).
	Unhealthy func(pod *corev1.Pod, container string, kind Kind, msg string)
	// Attempted is called after every probe attempt (for metrics).
	Attempted func(kind Kind, ok bool)
}

// Manager runs the probe workers of every pod and keeps their results.
type Manager struct {
	ctx       context.Context
	checker   Checker
	clock     Clock
	changed   func(string)
	unhealthy func(*corev1.Pod, string, Kind, string)
	attempted func(Kind, bool)

	mu      sync.Mutex
	workers map[key]*worker
}

// New returns a Manager whose workers live at most as long as ctx.
func New(ctx context.Context, cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	return &Manager{ctx: ctx, checker: cfg.Checker, clock: cfg.Clock, changed: cfg.Changed, unhealthy: cfg.Unhealthy, attempted: cfg.Attempted, workers: map[key]*worker{}}
}

func probes(c *corev1.Container) map[Kind]*corev1.Probe {
	out := map[Kind]*corev1.Probe{}
	if p := c.GetLivenessProbe(); p != nil {
		out[Liveness] = p
	}
	if p := c.GetReadinessProbe(); p != nil {
		out[Readiness] = p
	}
	if p := c.GetStartupProbe(); p != nil {
		out[Startup] = p
	}
	return out
}

// Sync makes the pod's workers match its running containers (by name): a
// worker per probe of each, a new one when the container was restarted,
// none for containers that do not run.
func (m *Manager) Sync(pod *corev1.Pod, running map[string]Running) {
	uid := pod.GetMetadata().GetUid()
	want := map[key]bool{}
	m.mu.Lock()
	var stop []*worker
	for _, c := range pod.GetSpec().GetContainers() {
		r, ok := running[c.GetName()]
		if !ok {
			continue
		}
		for kind, p := range probes(c) {
			k := key{uid, c.GetName(), kind}
			want[k] = true
			if w := m.workers[k]; w != nil {
				if w.target.ContainerID == r.ContainerID {
					w.pod = pod
					continue
				}
				stop = append(stop, w)
			}
			ctx, cancel := context.WithCancel(m.ctx)
			w := &worker{
				m: m, key: k, podKey: informer.Key(pod.GetMetadata()), pod: pod, probe: p,
				target: r.Target, startedAt: r.StartedAt, cancel: cancel, done: make(chan struct{}),
				result: initial(kind),
			}
			m.workers[k] = w
			go w.run(ctx)
		}
	}
	for k, w := range m.workers {
		if k.uid == uid && !want[k] {
			stop = append(stop, w)
			delete(m.workers, k)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.cancel()
	}
}

// Remove stops every worker of a pod.
func (m *Manager) Remove(uid string) {
	m.mu.Lock()
	var stop []*worker
	for k, w := range m.workers {
		if k.uid == uid {
			stop = append(stop, w)
			delete(m.workers, k)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.cancel()
	}
}

// RemoveOthers stops the workers of every pod named podKey
// (namespace/name) but the one with UID uid ("" when no pod of that name
// exists any more). A pod deleted, or replaced by one of the same name,
// after its runtime objects were already gone is never seen by Remove: its
// workers, readiness ones above all, would otherwise probe forever.
func (m *Manager) RemoveOthers(podKey, uid string) {
	m.mu.Lock()
	var stop []*worker
	for k, w := range m.workers {
		if w.podKey == podKey && k.uid != uid {
			stop = append(stop, w)
			delete(m.workers, k)
		}
	}
	m.mu.Unlock()
	for _, w := range stop {
		w.cancel()
	}
}

// Result is the current result of a container instance's probe; Unknown
// when no worker runs it.
func (m *Manager) Result(uid, container, containerID string, kind Kind) Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[key{uid, container, kind}]
	if w == nil || w.target.ContainerID != containerID {
		return Unknown
	}
	return w.result
}

// started says whether the container instance's startup probe passed (or
// it has none).
func (m *Manager) started(k key, containerID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[key{k.uid, k.container, Startup}]
	if w == nil {
		return true
	}
	return w.target.ContainerID == containerID && w.result == Success
}

// Workers is how many probe workers run (for tests and metrics).
func (m *Manager) Workers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.workers)
}
