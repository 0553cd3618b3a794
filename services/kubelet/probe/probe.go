// Package probe runs containers' liveness, readiness and startup probes
// (httpGet, tcpSocket, exec through the runtime, grpc health) on the
// kubelet. One worker goroutine per container probe checks it every
// periodSeconds after initialDelaySeconds, turns consecutive outcomes into a result with the
// success and failure thresholds, and tells the pod manager when a result
// changes. Time comes from a Clock so the timing is testable with a fake.
package probe

import (
	"context"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Kind is which probe of a container.
type Kind string

// The three probes.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Result is a probe's current verdict.
type Result int

// Results. Unknown is a probe that has not decided yet.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	}
	return "Unknown"
}

// Clock is the time the workers see.
type Clock interface {
	Now() time.Time
	// After fires once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Pass is a Checker whose every probe succeeds: for hollow nodes, whose
// pods have no network to probe.
type Pass struct{}

// Check succeeds.
func (Pass) Check(context.Context, *corev1.Probe, Target) (bool, string) { return true, "" }
