package probe

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// scripted answers probes from a per-kind script and records when each
// attempt happened on the fake clock.
type scripted struct {
	clock *fakeClock
	mu    sync.Mutex
	plan  map[string][]bool // by the probe's path: outcomes in order, the last repeats
	calls map[string][]time.Time
}

func (s *scripted) Check(_ context.Context, p *corev1.Probe, _ Target) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := p.GetHttpGet().GetPath()
	n := len(s.calls[path])
	s.calls[path] = append(s.calls[path], s.clock.Now())
	plan := s.plan[path]
	ok := plan[min(n, len(plan)-1)]
	if ok {
		return true, ""
	}
	return false, "HTTP probe failed with statuscode: 500"
}

func (s *scripted) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[path])
}

func (s *scripted) times(path string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[path]...)
}

func httpProbe(path string, delay, period, success, failure int32) *corev1.Probe {
	return &corev1.Probe{
		HttpGet:             &corev1.HTTPGetAction{Path: path, Port: structpb.NewNumberValue(9876)},
		InitialDelaySeconds: delay, PeriodSeconds: period, SuccessThreshold: success, FailureThreshold: failure,
	}
}

type harness struct {
	clock     *fakeClock
	check     *scripted
	m         *Manager
	mu        sync.Mutex
	changes   int
	unhealthy []string
}

func newHarness(t *testing.T, plan map[string][]bool) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{clock: newFakeClock()}
	h.check = &scripted{clock: h.clock, plan: plan, calls: map[string][]time.Time{}}
	h.m = New(ctx, Config{
		Checker: h.check, Clock: h.clock,
		Changed: func(string) { h.mu.Lock(); h.changes++; h.mu.Unlock() },
		Unhealthy: func(_ *corev1.Pod, c string, k Kind, msg string) {
			h.mu.Lock()
			h.unhealthy = append(h.unhealthy, string(k)+" "+c+": "+msg)
			h.mu.Unlock()
		},
	})
	return h
}

func (h *harness) unhealthyCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.unhealthy)
}

func pod(c *corev1.Container) *corev1.Pod {
	return &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p", Uid: "uid"}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{c}}}
}

// Seed 004's pod-healthcheck1: liveness after 2 s, every 5 s; with the
// default failureThreshold of 3 it fails at 2+5+5 = 12 s and stops.
func TestLivenessTiming(t *testing.T) {
	h := newHarness(t, map[string][]bool{"/health": {false}})
	c := &corev1.Container{Name: "sise", LivenessProbe: httpProbe("/health", 2, 5, 1, 3)}
	start := h.clock.Now()
	h.m.Sync(pod(c), map[string]Running{"sise": {Target: Target{ContainerID: "c1"}, StartedAt: start}})
	if r := h.m.Result("uid", "sise", "c1", Liveness); r != Success {
		t.Fatalf("liveness before any probe is %v, want Success", r)
	}
	eventually(t, "worker waits for the initial delay", func() bool { return h.clock.pending() == 1 })
	h.clock.Advance(1999 * time.Millisecond)
	if h.check.count("/health") != 0 {
		t.Fatal("probed before initialDelaySeconds")
	}
	for i, at := range []time.Duration{2, 7, 12} {
		h.clock.Advance(start.Add(at*time.Second).Sub(h.clock.Now()) - time.Millisecond)
		if h.check.count("/health") != i {
			t.Fatalf("probe %d ran early", i+1)
		}
		h.clock.Advance(time.Millisecond)
		eventually(t, "probe runs", func() bool { return h.check.count("/health") == i+1 })
		if i < 2 {
			eventually(t, "next period scheduled", func() bool { return h.clock.pending() == 1 })
			if r := h.m.Result("uid", "sise", "c1", Liveness); r != Success {
				t.Fatalf("after %d failures liveness is %v, want Success until the threshold", i+1, r)
			}
		}
	}
	eventually(t, "liveness fails", func() bool { return h.m.Result("uid", "sise", "c1", Liveness) == Failure })
	for i, at := range h.check.times("/health") {
		if want := start.Add([]time.Duration{2, 7, 12}[i] * time.Second); !at.Equal(want) {
			t.Errorf("probe %d at +%v, want +%v", i+1, at.Sub(start), want.Sub(start))
		}
	}
	eventually(t, "three Unhealthy events", func() bool { return h.unhealthyCount() == 3 })
	// A failed liveness probe holds: the container is restarted, not probed.
	h.clock.Advance(time.Minute)
	if n := h.check.count("/health"); n != 3 {
		t.Errorf("%d probes after the failure, want 3", n)
	}
	// The restarted container (a new ID) gets a fresh worker.
	h.m.Sync(pod(c), map[string]Running{"sise": {Target: Target{ContainerID: "c2"}, StartedAt: h.clock.Now()}})
	if r := h.m.Result("uid", "sise", "c2", Liveness); r != Success {
		t.Errorf("restarted container's liveness is %v, want Success", r)
	}
	if r := h.m.Result("uid", "sise", "c1", Liveness); r != Unknown {
		t.Errorf("the old instance still has a result %v", r)
	}
}

// Readiness starts as Failure, passes after successThreshold successes and
// fails again after failureThreshold failures; it keeps probing.
func TestReadinessThresholds(t *testing.T) {
	h := newHarness(t, map[string][]bool{"/ready": {true, false, true, true, false, false}})
	c := &corev1.Container{Name: "sise", ReadinessProbe: httpProbe("/ready", 10, 1, 2, 2)}
	h.m.Sync(pod(c), map[string]Running{"sise": {Target: Target{ContainerID: "c1"}, StartedAt: h.clock.Now()}})
	want := []Result{Failure, Failure, Failure, Success, Success, Failure}
	if r := h.m.Result("uid", "sise", "c1", Readiness); r != Failure {
		t.Fatalf("initial readiness %v, want Failure", r)
	}
	eventually(t, "initial delay scheduled", func() bool { return h.clock.pending() == 1 })
	h.clock.Advance(10 * time.Second)
	for i, w := range want {
		eventually(t, "probe runs", func() bool { return h.check.count("/ready") == i+1 })
		eventually(t, "next scheduled", func() bool { return h.clock.pending() == 1 })
		if r := h.m.Result("uid", "sise", "c1", Readiness); r != w {
			t.Fatalf("after probe %d readiness is %v, want %v", i+1, r, w)
		}
		h.clock.Advance(time.Second)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.changes != 2 {
		t.Errorf("%d result changes reported, want 2 (to Success, back to Failure)", h.changes)
	}
}

// A startup probe holds liveness back until it passes, then stops.
func TestStartupHoldsLiveness(t *testing.T) {
	h := newHarness(t, map[string][]bool{"/started": {false, false, true}, "/live": {true}})
	c := &corev1.Container{Name: "app", StartupProbe: httpProbe("/started", 0, 1, 1, 10), LivenessProbe: httpProbe("/live", 0, 1, 1, 3)}
	h.m.Sync(pod(c), map[string]Running{"app": {Target: Target{ContainerID: "c1"}, StartedAt: h.clock.Now()}})
	if h.m.Workers() != 2 {
		t.Fatalf("%d workers, want one per probe", h.m.Workers())
	}
	eventually(t, "startup probe 1", func() bool { return h.check.count("/started") == 1 })
	for i := 2; i <= 3; i++ {
		eventually(t, "both wait", func() bool { return h.clock.pending() == 2 })
		if n := h.check.count("/live"); n != 0 {
			t.Fatalf("liveness probed %d times before startup passed", n)
		}
		h.clock.Advance(time.Second)
		eventually(t, "startup probe", func() bool { return h.check.count("/started") == i })
	}
	eventually(t, "started", func() bool { return h.m.Result("uid", "app", "c1", Startup) == Success })
	// On the tick the startup probe passed liveness may have run already.
	eventually(t, "liveness waits alone", func() bool { return h.clock.pending() == 1 })
	h.clock.Advance(time.Second)
	eventually(t, "liveness probes after startup", func() bool { return h.check.count("/live") >= 1 })
	passed := h.check.times("/started")[2]
	for _, at := range h.check.times("/live") {
		if at.Before(passed) {
			t.Errorf("liveness probed at %v, before the startup probe passed at %v", at, passed)
		}
	}
	if n := h.check.count("/started"); n != 3 {
		t.Errorf("startup probed %d times, want 3 (it stops once passed)", n)
	}
	h.m.Remove("uid")
	if h.m.Workers() != 0 {
		t.Errorf("%d workers left after Remove", h.m.Workers())
	}
}

// Containers that do not run have no workers.
func TestSyncStopsWorkersOfExitedContainers(t *testing.T) {
	h := newHarness(t, map[string][]bool{"/health": {true}})
	c := &corev1.Container{Name: "sise", LivenessProbe: httpProbe("/health", 0, 1, 1, 3)}
	h.m.Sync(pod(c), map[string]Running{"sise": {Target: Target{ContainerID: "c1"}, StartedAt: h.clock.Now()}})
	h.m.Sync(pod(c), nil)
	if h.m.Workers() != 0 {
		t.Errorf("%d workers for an exited container", h.m.Workers())
	}
}

// The workers of a pod that is gone, or was replaced by one of the same
// name, stop even when Remove never ran for its UID.
func TestRemoveOthersStopsWorkersOfGonePods(t *testing.T) {
	h := newHarness(t, map[string][]bool{"/ready": {false}})
	c := &corev1.Container{Name: "sise", ReadinessProbe: httpProbe("/ready", 0, 1, 1, 3)}
	h.m.Sync(pod(c), map[string]Running{"sise": {Target: Target{ContainerID: "c1"}, StartedAt: h.clock.Now()}})
	h.m.mu.Lock()
	w := h.m.workers[key{"uid", "sise", Readiness}]
	h.m.mu.Unlock()
	if w == nil {
		t.Fatal("no readiness worker")
	}
	h.m.RemoveOthers("ns/p", "uid")
	if h.m.Workers() != 1 {
		t.Fatalf("%d workers after RemoveOthers kept the pod's own UID, want 1", h.m.Workers())
	}
	h.m.RemoveOthers("ns/other", "")
	if h.m.Workers() != 1 {
		t.Fatalf("%d workers after RemoveOthers for another pod, want 1", h.m.Workers())
	}
	h.m.RemoveOthers("ns/p", "uid-2") // replaced by a pod of the same name
	if h.m.Workers() != 0 {
		t.Errorf("%d workers of a replaced pod left", h.m.Workers())
	}
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the replaced pod's worker goroutine still runs")
	}
}
