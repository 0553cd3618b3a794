package app

import (
	"maps"
	"slices"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeready"
	"google.golang.org/protobuf/proto"
)

// Pods bound to a node go to the cache; pending pods this scheduler is
// responsible for go to the queue.

func assigned(p *corev1.Pod) bool { return p.GetSpec().GetNodeName() != "" }

// responsible reports whether p is a pod this scheduler should place.
func (s *scheduler) responsible(p *corev1.Pod) bool {
	return p.GetSpec().GetSchedulerName() == s.cfg.SchedulerName && p.GetMetadata().GetDeletionTimestamp() == nil
}

func (s *scheduler) onPodAdd(p *corev1.Pod) {
	switch {
	case assigned(p):
		s.cache.AddPod(p)
	case s.responsible(p):
		s.queue.Add(p)
	}
}

func (s *scheduler) onPodUpdate(old, p *corev1.Pod) {
	switch {
	case assigned(p):
		if !assigned(old) {
			s.queue.Delete(p) // bound, by this scheduler or another
		}
		s.cache.UpdatePod(p)
	case s.responsible(p):
		s.queue.Update(p)
	default:
		s.queue.Delete(p) // being deleted
	}
}

func (s *scheduler) onPodDelete(p *corev1.Pod) {
	s.queue.Delete(p)
	// An assumed pod deleted before its binding holds resources too.
	held := assigned(p) || s.cache.IsAssumed(key(p))
	s.cache.RemovePod(p)
	if held {
		s.queue.MoveAllToActiveOrBackoff()
	}
}

func (s *scheduler) onNodeAdd(n *corev1.Node) {
	s.cache.AddNode(n)
	s.queue.MoveAllToActiveOrBackoff()
}

func (s *scheduler) onNodeUpdate(old, n *corev1.Node) {
	s.cache.UpdateNode(n)
	if schedulingChanged(old, n) {
		s.queue.MoveAllToActiveOrBackoff()
	}
}

func (s *scheduler) onNodeDelete(n *corev1.Node) {
	s.cache.RemoveNode(n.GetMetadata().GetName())
}

// schedulingChanged reports whether a node update can make a pod fit
// that did not: labels, taints, cordon, allocatable or readiness changed.
// Heartbeats alone do not count, or every node would wake every
// unschedulable pod each few seconds.
func schedulingChanged(old, n *corev1.Node) bool {
	return !maps.Equal(old.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()) ||
		!slices.EqualFunc(old.GetSpec().GetTaints(), n.GetSpec().GetTaints(), func(a, b *corev1.Taint) bool {
			return a.GetKey() == b.GetKey() && a.GetValue() == b.GetValue() && a.GetEffect() == b.GetEffect()
		}) ||
		old.GetSpec().GetUnschedulable() != n.GetSpec().GetUnschedulable() ||
		!maps.Equal(old.GetStatus().GetAllocatable(), n.GetStatus().GetAllocatable()) ||
		nodeready.Ready(old) != nodeready.Ready(n)
}

func key(p *corev1.Pod) string {
	return p.GetMetadata().GetNamespace() + "/" + p.GetMetadata().GetName()
}

// withNode returns a copy of p bound to node.
func withNode(p *corev1.Pod, node string) *corev1.Pod {
	c := proto.Clone(p).(*corev1.Pod)
	if c.Spec == nil {
		c.Spec = &corev1.PodSpec{}
	}
	c.Spec.NodeName = node
	return c
}
