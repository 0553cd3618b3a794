// Package core is the scheduling algorithm, free of I/O: given a snapshot
// of the cluster and a pending pod it runs the filter plugins over the
// nodes (in parallel chunks, stopping once enough feasible nodes are
// found), scores the feasible ones and picks the best, breaking ties at
// random. The caller assumes and binds.
package core

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// Adaptive search bounds, as in Kubernetes: every node is checked in a
// cluster of fewer than minFeasibleNodesToFind nodes; larger clusters stop
// once a share of the nodes is feasible, 50% less 1% per 125 nodes, down
// to minFeasibleNodesPercentageToFind.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
	basePercentageOfNodesToScore     = 50
)

// WeightedScore is a score plugin and the weight of its scores in a
// node's total.
type WeightedScore struct {
	Plugin framework.ScorePlugin
	Weight int64
}

// Options configure a Scheduler.
type Options struct {
	// Filters run in order on each node; the first rejection decides.
	// Filters that are also PreFilterPlugins get PreFilter first.
	Filters []framework.FilterPlugin
	// Scores rank the feasible nodes.
	Scores []WeightedScore
	// Parallelism is the number of goroutines filtering and scoring the
	// nodes of one pod; GOMAXPROCS when 0.
	Parallelism int
	// PercentageOfNodesToScore is the share of nodes to find feasible
	// before filtering stops (at least 100 nodes); 0 adapts it to the
	// cluster's size, 100 checks every node.
	PercentageOfNodesToScore int32
	// Rand breaks ties between the best nodes; randomly seeded when nil.
	Rand *rand.Rand
}

// Scheduler places pods on nodes. It is safe for concurrent use, but it
// is meant for one scheduling loop: it rotates where each search starts
// so that the nodes checked first are not always the same.
type Scheduler struct {
	preFilters  []framework.PreFilterPlugin
	filters     []framework.FilterPlugin
	scores      []WeightedScore
	parallelism int
	percentage  int32

	mu        sync.Mutex
	rand      *rand.Rand
	nextStart int
}

// Decision is where a pod goes and how the choice was made.
type Decision struct {
	// Node is the chosen node's name.
	Node string
	// EvaluatedNodes is how many nodes the filters ran on.
	EvaluatedNodes int
	// FeasibleNodes is how many of them passed.
	FeasibleNodes int
}

// New returns a scheduler running the plugins of opts.
func New(opts Options) *Scheduler {
	s := &Scheduler{
		filters:     opts.Filters,
		scores:      opts.Scores,
		parallelism: opts.Parallelism,
		percentage:  opts.PercentageOfNodesToScore,
		rand:        opts.Rand,
	}
	if s.parallelism <= 0 {
		s.parallelism = runtime.GOMAXPROCS(0)
	}
	if s.rand == nil {
		s.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	for _, f := range opts.Filters {
		if pf, ok := f.(framework.PreFilterPlugin); ok {
			s.preFilters = append(s.preFilters, pf)
		}
	}
	return s
}

// Schedule picks a node of snap for pod. It returns a *FitError when no
// node fits, and another error when a plugin failed.
func (s *Scheduler) Schedule(snap *framework.Snapshot, pod *corev1.Pod) (Decision, error) {
	pi := framework.NewPodInfo(pod)
	all := snap.NumNodes()
	if all == 0 {
		return Decision{}, &FitError{Pod: pi.Key}
	}
	state := framework.NewCycleState()
	for _, pf := range s.preFilters {
		st := pf.PreFilter(state, pi)
		switch {
		case st.IsSuccess():
		case st.IsRejected():
			fe := &FitError{Pod: pi.Key, NumAllNodes: all, Reasons: map[string]int{}, Plugins: []string{pf.Name()}}
			for _, r := range st.Reasons() {
				fe.Reasons[r] = all
			}
			return Decision{}, fe
		default:
			return Decision{}, fmt.Errorf("prefilter %s: %w", pf.Name(), st.AsError())
		}
	}
	feasible, evaluated, err := s.findFeasible(state, pi, snap)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{EvaluatedNodes: evaluated, FeasibleNodes: len(feasible)}
	if len(feasible) == 1 {
		d.Node = feasible[0].Name()
		return d, nil
	}
	totals, err := s.prioritize(state, pi, feasible)
	if err != nil {
		return Decision{}, err
	}
	d.Node = feasible[s.selectBest(totals)].Name()
	return d, nil
}

// numFeasibleNodesToFind is how many feasible nodes stop the search.
func (s *Scheduler) numFeasibleNodesToFind(all int) int {
	if all < minFeasibleNodesToFind || s.percentage >= 100 {
		return all
	}
	pct := int(s.percentage)
	if pct <= 0 {
		pct = max(basePercentageOfNodesToScore-all/125, minFeasibleNodesPercentageToFind)
	}
	return max(all*pct/100, minFeasibleNodesToFind)
}

// selectBest returns the index of the highest total, a random one of
// them when several tie (reservoir sampling).
func (s *Scheduler) selectBest(totals []int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, ties := 0, 1
	for i := 1; i < len(totals); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if s.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// errPlugin wraps the error of a plugin with its name.
func errPlugin(stage, name string, st *framework.Status) error {
	return fmt.Errorf("%s plugin %s: %w", stage, name, st.AsError())
}

// IsFitError reports whether err says that no node fits the pod.
func IsFitError(err error) bool {
	var fe *FitError
	return errors.As(err, &fe)
}
