package printer

import (
	"fmt"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/duration"
)

func podRow(obj proto.Message, now time.Time) ([]string, []string) {
	p := obj.(*corev1.Pod)
	ready, total := 0, len(p.GetSpec().GetContainers())
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		if cs.GetReady() {
			ready++
		}
	}
	cells := []string{p.GetMetadata().GetName(), fmt.Sprintf("%d/%d", ready, total), PodStatus(p), restarts(p, now), Age(p.GetMetadata().GetCreationTimestamp(), now)}
	ip := p.GetStatus().GetPodIp()
	if ip == "" {
		ip = "<none>"
	}
	node := p.GetSpec().GetNodeName()
	if node == "" {
		node = "<none>"
	}
	return cells, []string{ip, node, orNone(p.GetStatus().GetNominatedNodeName()), "<none>"}
}

// restarts is the sum of the containers' restarts, with how long ago the
// last one ended: "2 (5s ago)".
func restarts(p *corev1.Pod, now time.Time) string {
	n := int32(0)
	var last time.Time
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		n += cs.GetRestartCount()
		if t := cs.GetLastState().GetTerminated().GetFinishedAt(); t != nil && t.AsTime().After(last) {
			last = t.AsTime()
		}
	}
	if n > 0 && !last.IsZero() {
		return fmt.Sprintf("%d (%s ago)", n, duration.HumanDuration(now.Sub(last)))
	}
	return fmt.Sprint(n)
}

// PodStatus is the STATUS column of a pod, as kubectl computes it: the
// phase, unless a container's waiting or terminated reason says more
// (ContainerCreating, CrashLoopBackOff, Completed, Error), Init:n/m while
// init containers run, Terminating once deleted.
func PodStatus(p *corev1.Pod) string {
	st := p.GetStatus()
	reason := st.GetPhase()
	if st.GetReason() != "" {
		reason = st.GetReason()
	}
	if reason == "" {
		reason = "Pending"
	}
	initializing := false
	for i, cs := range st.GetInitContainerStatuses() {
		switch s := cs.GetState(); {
		case s.GetTerminated() != nil && s.GetTerminated().GetExitCode() == 0:
			continue
		case s.GetTerminated() != nil:
			reason = "Init:" + orDefault(s.GetTerminated().GetReason(), fmt.Sprintf("ExitCode:%d", s.GetTerminated().GetExitCode()))
		case s.GetWaiting() != nil && s.GetWaiting().GetReason() != "" && s.GetWaiting().GetReason() != "PodInitializing":
			reason = "Init:" + s.GetWaiting().GetReason()
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.GetSpec().GetInitContainers()))
		}
		initializing = true
		break
	}
	if !initializing {
		hasRunning := false
		css := st.GetContainerStatuses()
		for i := len(css) - 1; i >= 0; i-- {
			s := css[i].GetState()
			switch {
			case s.GetWaiting() != nil && s.GetWaiting().GetReason() != "":
				reason = s.GetWaiting().GetReason()
			case s.GetTerminated() != nil && s.GetTerminated().GetReason() != "":
				reason = s.GetTerminated().GetReason()
			case s.GetTerminated() != nil && s.GetTerminated().GetSignal() != 0:
				reason = fmt.Sprintf("Signal:%d", s.GetTerminated().GetSignal())
			case s.GetTerminated() != nil:
				reason = fmt.Sprintf("ExitCode:%d", s.GetTerminated().GetExitCode())
			case s.GetRunning() != nil && css[i].GetReady():
				hasRunning = true
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "Running"
		}
	}
	if p.GetMetadata().GetDeletionTimestamp() != nil {
		if st.GetReason() == "NodeLost" {
			return "Unknown"
		}
		return "Terminating"
	}
	return reason
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
