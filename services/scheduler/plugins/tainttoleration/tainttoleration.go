// Package tainttoleration keeps pods off nodes whose NoSchedule and
// NoExecute taints they do not tolerate, and scores nodes lower the more
// PreferNoSchedule taints a pod does not tolerate.
package tainttoleration

import (
	"github.com/tugboat-sh/tugboat/machinery/taints"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// Name is the plugin's name.
const Name = "TaintToleration"

// Taint effects.
const (
	EffectNoSchedule       = "NoSchedule"
	EffectPreferNoSchedule = "PreferNoSchedule"
	EffectNoExecute        = "NoExecute"
)

// TaintToleration is a filter and a score plugin.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin    = (*TaintToleration)(nil)
	_ framework.ScorePlugin     = (*TaintToleration)(nil)
	_ framework.ScoreNormalizer = (*TaintToleration)(nil)
)

// New returns the plugin.
func New() *TaintToleration { return &TaintToleration{} }

// Name implements framework.Plugin.
func (*TaintToleration) Name() string { return Name }

// Filter rejects a node with a NoSchedule or NoExecute taint the pod does
// not tolerate, naming the first such taint as Kubernetes does.
func (*TaintToleration) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	tols := pod.Pod.GetSpec().GetTolerations()
	for _, t := range node.Node.GetSpec().GetTaints() {
		if t.GetEffect() != EffectNoSchedule && t.GetEffect() != EffectNoExecute {
			continue
		}
		if !taints.Tolerated(tols, t) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable,
				"node(s) had untolerated taint {"+t.GetKey()+": "+t.GetValue()+"}")
		}
	}
	return nil
}

// Score counts the node's PreferNoSchedule taints the pod does not
// tolerate; NormalizeScore turns the count into a score where fewer is better.
func (*TaintToleration) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	tols := pod.Pod.GetSpec().GetTolerations()
	var n int64
	for _, t := range node.Node.GetSpec().GetTaints() {
		if t.GetEffect() == EffectPreferNoSchedule && !taints.Tolerated(tols, t) {
			n++
		}
	}
	return n, nil
}

// NormalizeScore gives the nodes with the fewest untolerated
// PreferNoSchedule taints MaxNodeScore.
func (*TaintToleration) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}
