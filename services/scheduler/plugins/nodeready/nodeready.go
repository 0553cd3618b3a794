// Package nodeready keeps pods off nodes that cannot start them: nodes
// whose Ready condition is not True, and cordoned nodes
// (spec.unschedulable) unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint they stand for.
package nodeready

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/taints"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/tainttoleration"
)

// Name is the plugin's name.
const Name = "NodeReady"

// The taints a not-ready and a cordoned node stand for; a pod tolerating
// them (a DaemonSet's) may go there anyway.
const (
	TaintNotReady      = "node.kubernetes.io/not-ready"
	TaintUnschedulable = "node.kubernetes.io/unschedulable"
)

// Reasons, counted in an unschedulable pod's message.
const (
	ReasonNotReady      = "node(s) were not ready"
	ReasonUnschedulable = "node(s) were unschedulable"
)

var (
	notReady      = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNotReady)
	unschedulable = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonUnschedulable)

	notReadyTaint      = &corev1.Taint{Key: TaintNotReady, Effect: tainttoleration.EffectNoSchedule}
	unschedulableTaint = &corev1.Taint{Key: TaintUnschedulable, Effect: tainttoleration.EffectNoSchedule}
)

// NodeReady is a filter plugin.
type NodeReady struct{}

var _ framework.FilterPlugin = (*NodeReady)(nil)

// New returns the plugin.
func New() *NodeReady { return &NodeReady{} }

// Name implements framework.Plugin.
func (*NodeReady) Name() string { return Name }

// Filter rejects a node that is not Ready or is cordoned.
func (*NodeReady) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	tols := pod.Pod.GetSpec().GetTolerations()
	if !Ready(node.Node) && !taints.Tolerated(tols, notReadyTaint) {
		return notReady
	}
	if node.Node.GetSpec().GetUnschedulable() && !taints.Tolerated(tols, unschedulableTaint) {
		return unschedulable
	}
	return nil
}

// Ready reports whether the node's Ready condition is True.
func Ready(node *corev1.Node) bool {
	for _, c := range node.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}
