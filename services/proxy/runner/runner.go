// Package runner calls a function at a bounded frequency, like
// kube-proxy's BoundedFrequencyRunner: triggers that arrive while a run is
// pending coalesce into one run, runs are at least MinInterval apart, a
// run happens at least every MaxInterval without triggers, and a failed
// run is retried after MinInterval.
package runner

import (
	"context"
	"time"
)

// Runner calls fn; create it with New and start it with Run.
type Runner struct {
	fn       func() error
	min, max time.Duration
	trigger  chan struct{}
}

// New returns a Runner of fn with runs at least minInterval apart and at
// most maxInterval apart.
func New(fn func() error, minInterval, maxInterval time.Duration) *Runner {
	return &Runner{fn: fn, min: minInterval, max: maxInterval, trigger: make(chan struct{}, 1)}
}

// Trigger asks for a run; it never blocks and coalesces with a pending one.
func (r *Runner) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run calls fn at once and then as triggered until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.trigger:
			if wait := r.min - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		case <-timer.C:
		}
		// Drain a trigger that arrived while waiting: this run covers it.
		select {
		case <-r.trigger:
		default:
		}
		last = time.Now()
		next := r.max
		if err := r.fn(); err != nil {
			next = r.min
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}
