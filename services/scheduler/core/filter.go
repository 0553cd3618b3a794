package core

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// rejection is why one node was filtered out.
type rejection struct {
	status *framework.Status
	plugin string
}

// findFeasible runs the filters over the nodes of snap, starting where
// the previous search left off, until numFeasibleNodesToFind nodes pass
// or every node was checked. It returns the feasible nodes and how many
// nodes were evaluated; when none is feasible, a *FitError that accounts
// for every node.
func (s *Scheduler) findFeasible(state *framework.CycleState, pod *framework.PodInfo, snap *framework.Snapshot) ([]*framework.NodeInfo, int, error) {
	nodes := snap.Nodes()
	all := len(nodes)
	want := s.numFeasibleNodesToFind(all)
	s.mu.Lock()
	start := s.nextStart % all
	s.mu.Unlock()

	feasible := make([]*framework.NodeInfo, want)
	rejected := make([]rejection, all)
	var (
		found, rejectedCount atomic.Int32
		stop                 atomic.Bool
		errOnce              sync.Once
		firstErr             error
	)
	s.parallel(all, func(i int) {
		if stop.Load() {
			return
		}
		node := nodes[(start+i)%all]
		st, plugin := s.runFilters(state, pod, node)
		switch {
		case st.IsSuccess():
			n := found.Add(1)
			if int(n) > want {
				found.Add(-1)
				stop.Store(true)
				return
			}
			feasible[n-1] = node
			if int(n) == want {
				stop.Store(true)
			}
		case st.IsRejected():
			rejected[i] = rejection{status: st, plugin: plugin}
			rejectedCount.Add(1)
		default:
			errOnce.Do(func() { firstErr = errPlugin("filter", plugin, st) })
			stop.Store(true)
		}
	})
	if firstErr != nil {
		return nil, 0, firstErr
	}
	evaluated := int(found.Load() + rejectedCount.Load())
	s.mu.Lock()
	s.nextStart = (start + evaluated) % all
	s.mu.Unlock()
	feasible = feasible[:found.Load()]
	if len(feasible) == 0 {
		return nil, evaluated, fitError(pod.Key, all, rejected)
	}
	return feasible, evaluated, nil
}

// runFilters runs the filters on one node and returns the first
// non-success status with its plugin's name.
func (s *Scheduler) runFilters(state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (*framework.Status, string) {
	for _, f := range s.filters {
		if st := f.Filter(state, pod, node); !st.IsSuccess() {
			return st, f.Name()
		}
	}
	return nil, ""
}

// fitError sums the rejections of every node into a FitError.
func fitError(pod string, all int, rejected []rejection) *FitError {
	fe := &FitError{Pod: pod, NumAllNodes: all, Reasons: map[string]int{}}
	for _, r := range rejected {
		if r.status == nil {
			continue
		}
		for _, reason := range r.status.Reasons() {
			fe.Reasons[reason]++
		}
		if !slices.Contains(fe.Plugins, r.plugin) {
			fe.Plugins = append(fe.Plugins, r.plugin)
		}
	}
	slices.Sort(fe.Plugins)
	return fe
}
