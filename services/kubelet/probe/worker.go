package probe

import (
	"context"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// worker runs one probe of one container instance until stopped.
type worker struct {
	m         *Manager
	key       key
	podKey    string
	pod       *corev1.Pod // guarded by m.mu: Sync replaces it
	probe     *corev1.Probe
	target    Target
	startedAt time.Time
	cancel    context.CancelFunc
	done      chan struct{}

	// Guarded by m.mu.
	result              Result
	successes, failures int
}

// initial is a probe's result before it has decided: a container is alive
// until its liveness probe says otherwise, not ready until its readiness
// probe passes, and not started until its startup probe passes.
func initial(k Kind) Result {
	switch k {
	case Liveness:
		return Success
	case Readiness:
		return Failure
	}
	return Unknown
}

func (w *worker) period() time.Duration {
	if s := w.probe.GetPeriodSeconds(); s > 0 {
		return time.Duration(s) * time.Second
	}
	return 10 * time.Second
}

func threshold(v, def int32) int {
	if v > 0 {
		return int(v)
	}
	return int(def)
}

// run probes every period, the first time initialDelaySeconds after the
// container started. A liveness or startup probe that failed stops (the
// container is restarted and gets a new worker); a startup probe that
// passed stops too.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	delay := time.Duration(w.probe.GetInitialDelaySeconds())*time.Second - w.m.clock.Now().Sub(w.startedAt)
	for {
		if delay < 0 {
			delay = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-w.m.clock.After(delay):
		}
		delay = w.period()
		if w.key.kind != Startup && !w.m.started(w.key, w.target.ContainerID) {
			continue // the startup probe holds the others back
		}
		ok, msg := w.m.checker.Check(ctx, w.probe, w.target)
		if ctx.Err() != nil {
			return
		}
		if r := w.observe(ok, msg); (r == Failure && w.key.kind != Readiness) || (r == Success && w.key.kind == Startup) {
			return
		}
	}
}

// observe counts one outcome and returns the result after it.
func (w *worker) observe(ok bool, msg string) Result {
	m := w.m
	m.mu.Lock()
	prev := w.result
	if ok {
		w.successes, w.failures = w.successes+1, 0
		if w.successes >= threshold(w.probe.GetSuccessThreshold(), 1) {
			w.result = Success
		}
	} else {
		w.failures, w.successes = w.failures+1, 0
		if w.failures >= threshold(w.probe.GetFailureThreshold(), 3) {
			w.result = Failure
		}
	}
	r, pod := w.result, w.pod
	m.mu.Unlock()
	if m.attempted != nil {
		m.attempted(w.key.kind, ok)
	}
	if !ok && m.unhealthy != nil {
		m.unhealthy(pod, w.key.container, w.key.kind, msg)
	}
	if r != prev && m.changed != nil {
		m.changed(w.podKey)
	}
	return r
}
