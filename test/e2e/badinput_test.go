//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// Each failure is visible as a status reason and an Event, never a hang.
func TestBadInputIsReported(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	waiting := func(reasons ...string) func(*corev1.Pod) bool {
		return func(p *corev1.Pod) bool {
			for _, c := range p.GetStatus().GetContainerStatuses() {
				for _, r := range reasons {
					if c.GetState().GetWaiting().GetReason() == r {
						return true
					}
				}
			}
			return false
		}
	}
	t.Run("image does not exist", func(t *testing.T) {
		t.Parallel()
		pod := shellPod("noimage")
		pod.Spec.Containers[0].Image = "tugboat.local/nothere:1.0"
		createPod(t, ns, pod)
		p := waitPod(t, ns, "noimage", 60*time.Second, "ErrImagePull", waiting("ErrImagePull", "ImagePullBackOff"))
		if msg := p.GetStatus().GetContainerStatuses()[0].GetState().GetWaiting().GetMessage(); !strings.Contains(msg, "tugboat.local/nothere:1.0") {
			t.Errorf("message %q does not name the image", msg)
		}
		if p.GetStatus().GetPhase() != "Pending" {
			t.Errorf("phase %s, want Pending", p.GetStatus().GetPhase())
		}
		waitEvent(t, ns, "noimage", "Failed")
	})
	t.Run("command not in the image", func(t *testing.T) {
		t.Parallel()
		createPod(t, ns, shellPod("nocmd", "/bin/nonexistent"))
		p := waitPod(t, ns, "nocmd", 60*time.Second, "failing to start", waiting("RunContainerError", "CrashLoopBackOff"))
		cs := p.GetStatus().GetContainerStatuses()[0]
		msg := cs.GetState().GetWaiting().GetMessage() + cs.GetLastState().GetTerminated().GetMessage()
		if cs.GetState().GetWaiting().GetReason() == "RunContainerError" && !strings.Contains(msg, "/bin/nonexistent") {
			t.Errorf("message %q does not name the command", msg)
		}
		ev := waitEvent(t, ns, "nocmd", "Failed")
		if !strings.Contains(ev, "/bin/nonexistent") {
			t.Errorf("event %q does not name the command", ev)
		}
	})
	t.Run("more cpu than any node has", func(t *testing.T) {
		t.Parallel()
		pod := shellPod("toobig", "sleep", "1000")
		pod.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "1000"}}
		createPod(t, ns, pod)
		p := waitPod(t, ns, "toobig", 30*time.Second, "unschedulable", func(p *corev1.Pod) bool {
			for _, c := range p.GetStatus().GetConditions() {
				if c.GetType() == "PodScheduled" && c.GetReason() == "Unschedulable" {
					return true
				}
			}
			return false
		})
		for _, c := range p.GetStatus().GetConditions() {
			if c.GetType() == "PodScheduled" && !strings.Contains(c.GetMessage(), "Insufficient cpu") {
				t.Errorf("message %q, want Insufficient cpu", c.GetMessage())
			}
		}
		waitEvent(t, ns, "toobig", "FailedScheduling")
		if p.GetSpec().GetNodeName() != "" {
			t.Errorf("bound to %s", p.GetSpec().GetNodeName())
		}
	})
}
