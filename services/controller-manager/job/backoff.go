package job

import (
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Back-off before a Job replaces a failed pod, as in Kubernetes: 10 s,
// doubling with each failure, at most 6 minutes.
const (
	DefaultBackoff = 10 * time.Second
	maxBackoff     = 6 * time.Minute
)

// backoffLeft is how long a Job with failures failed pods must still
// wait, at now, before it creates pods again: base doubled per failure
// after the first, counted from the last failure seen (a failed pod's
// last container finish).
func backoffLeft(base time.Duration, failures int32, failed []*corev1.Pod, now time.Time) time.Duration {
	if failures <= 0 || base <= 0 {
		return 0
	}
	delay := base
	for i := int32(1); i < failures && delay < maxBackoff; i++ {
		delay *= 2
	}
	delay = min(delay, maxBackoff)
	var last time.Time
	for _, p := range failed {
		for _, cs := range p.GetStatus().GetContainerStatuses() {
			if t := cs.GetState().GetTerminated().GetFinishedAt(); t != nil && t.AsTime().After(last) {
				last = t.AsTime()
			}
		}
	}
	if last.IsZero() {
		return 0
	}
	return max(last.Add(delay).Sub(now), 0)
}
