// Package nodeaffinity places pods by node labels: it filters out nodes
// that miss the pod's nodeSelector or its required node affinity
// (matchExpressions with In, NotIn, Exists, DoesNotExist, Gt, Lt;
// matchFields on metadata.name), and scores nodes by the weights of the
// preferred node affinity terms they match.
package nodeaffinity

import (
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeAffinity"

// Reason is counted in an unschedulable pod's message.
const Reason = "node(s) didn't match Pod's node affinity/selector"

var mismatch = framework.NewStatus(framework.UnschedulableAndUnresolvable, Reason)

// NodeAffinity is a filter and a score plugin.
type NodeAffinity struct{}

var (
	_ framework.FilterPlugin    = (*NodeAffinity)(nil)
	_ framework.ScorePlugin     = (*NodeAffinity)(nil)
	_ framework.ScoreNormalizer = (*NodeAffinity)(nil)
)

// New returns the plugin.
func New() *NodeAffinity { return &NodeAffinity{} }

// Name implements framework.Plugin.
func (*NodeAffinity) Name() string { return Name }

// Filter rejects a node that does not satisfy the pod's nodeSelector and
// required node affinity.
func (*NodeAffinity) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !MatchesSelector(pod.Pod.GetSpec(), node.Node) {
		return mismatch
	}
	return nil
}

// Score sums the weights of the preferred terms the node matches.
func (*NodeAffinity) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var sum int64
	for _, t := range pod.Pod.GetSpec().GetAffinity().GetNodeAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution() {
		if t.GetWeight() != 0 && MatchesTerm(t.GetPreference(), node.Node) {
			sum += int64(t.GetWeight())
		}
	}
	return sum, nil
}

// NormalizeScore gives the node matching the most weight MaxNodeScore.
func (*NodeAffinity) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}
