// Package framework defines the scheduler's extension points, after
// Kubernetes' scheduling framework: small plugin interfaces (PreFilter,
// Filter, Score), a coded Status instead of bare errors, and the read-only
// view of the cluster plugins work on (NodeInfo, Snapshot, PodInfo).
//
// A plugin never does I/O: it answers from the snapshot it is given.
package framework

import "sync"

// MaxNodeScore and MinNodeScore bound the score of a node after
// normalization.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is anything with a name; the name keys the registry and appears
// in logs and errors.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per pod and scheduling cycle before the
// filters, to check the pod itself or to compute what the filters share
// into the CycleState. A rejection marks every node with that status.
type PreFilterPlugin interface {
	Plugin
	PreFilter(state *CycleState, pod *PodInfo) *Status
}

// FilterPlugin says whether a pod may run on a node. It is called
// concurrently for different nodes, so it must not write shared state.
type FilterPlugin interface {
	Plugin
	Filter(state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// ScorePlugin ranks a node that passed every filter. Scores are
// MinNodeScore..MaxNodeScore once normalized; a plugin that is also a
// ScoreNormalizer may return raw scores from Score. Called concurrently
// for different nodes.
type ScorePlugin interface {
	Plugin
	Score(state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer maps a score plugin's raw scores of all feasible nodes
// onto MinNodeScore..MaxNodeScore, in place.
type ScoreNormalizer interface {
	NormalizeScore(state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// NodeScore is the score of one node.
type NodeScore struct {
	Name  string
	Score int64
}

// PluginFactory builds a plugin. A registry maps plugin names to factories.
type PluginFactory func() Plugin

// Registry is the set of plugins a scheduler can be configured with, by
// name. It is an explicit map built by its owner, never filled by init().
type Registry map[string]PluginFactory

// CycleState is the scratch space of one scheduling cycle: what a
// PreFilter computes for the filters and scorers of the same pod. It is
// safe for concurrent use.
type CycleState struct {
	mu   sync.RWMutex
	data map[string]any
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState { return &CycleState{data: map[string]any{}} }

// Read returns the value stored under key.
func (c *CycleState) Read(key string) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.data[key]
	return v, ok
}

// Write stores v under key; by convention the key is the plugin's name.
func (c *CycleState) Write(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data[key] = v
}

// DefaultNormalizeScore scales scores so the highest becomes maxScore
// (all zero stays zero), and with reverse turns each s into maxScore-s:
// for plugins whose raw score counts something bad.
func DefaultNormalizeScore(maxScore int64, reverse bool, scores []NodeScore) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxScore
			}
		}
		return
	}
	for i := range scores {
		s := maxScore * scores[i].Score / highest
		if reverse {
			s = maxScore - s
		}
		scores[i].Score = s
	}
}
