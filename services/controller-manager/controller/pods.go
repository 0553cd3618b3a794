package controller

import (
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Active reports whether a pod counts towards its owner's replicas: not
// finished and not being deleted.
func Active(p *corev1.Pod) bool {
	ph := p.GetStatus().GetPhase()
	return ph != "Succeeded" && ph != "Failed" && p.GetMetadata().GetDeletionTimestamp() == nil
}

// Ready reports whether a pod's Ready condition is True.
func Ready(p *corev1.Pod) bool { return readySince(p) != nil }

func readySince(p *corev1.Pod) *time.Time {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" && c.GetStatus() == "True" {
			t := c.GetLastTransitionTime().AsTime()
			return &t
		}
	}
	return nil
}

// Available reports whether a pod has been ready for minReady at now, and
// otherwise how long until it will be (0 when it is not ready at all).
func Available(p *corev1.Pod, minReady time.Duration, now time.Time) (bool, time.Duration) {
	since := readySince(p)
	if since == nil || p.GetMetadata().GetDeletionTimestamp() != nil {
		return false, 0
	}
	if minReady <= 0 {
		return true, 0
	}
	left := since.Add(minReady).Sub(now)
	if left <= 0 {
		return true, 0
	}
	return false, left
}
