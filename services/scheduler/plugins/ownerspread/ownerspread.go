// Package ownerspread spreads the pods of one owner (the controller in
// their ownerReferences: a ReplicaSet, a Job ...) across nodes, so one
// node failing takes down as few replicas as possible: a node scores
// lower the more pods of the pod's owner it already runs.
package ownerspread

import "github.com/tugboat-sh/tugboat/services/scheduler/framework"

// Name is the plugin's name.
const Name = "OwnerSpread"

// OwnerSpread is a score plugin.
type OwnerSpread struct{}

var (
	_ framework.ScorePlugin     = (*OwnerSpread)(nil)
	_ framework.ScoreNormalizer = (*OwnerSpread)(nil)
)

// New returns the plugin.
func New() *OwnerSpread { return &OwnerSpread{} }

// Name implements framework.Plugin.
func (*OwnerSpread) Name() string { return Name }

// Score counts the pods on node with the pod's controller, leaving out
// pods being deleted; 0 for a pod without a controller.
func (*OwnerSpread) Score(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	if pod.ControllerUID == "" {
		return 0, nil
	}
	var n int64
	for _, p := range node.Pods {
		if !p.Terminating && p.ControllerUID == pod.ControllerUID {
			n++
		}
	}
	return n, nil
}

// NormalizeScore gives the nodes with the fewest such pods MaxNodeScore
// and the node with the most 0.
func (*OwnerSpread) NormalizeScore(_ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}
