package core

import (
	"fmt"
	"sync"

	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// prioritize scores the feasible nodes with every score plugin,
// normalizes, checks the range, and returns each node's weighted total.
func (s *Scheduler) prioritize(state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) ([]int64, error) {
	totals := make([]int64, len(nodes))
	if len(s.scores) == 0 {
		return totals, nil
	}
	scores := make([][]framework.NodeScore, len(s.scores))
	for j := range scores {
		scores[j] = make([]framework.NodeScore, len(nodes))
	}
	var (
		errOnce  sync.Once
		firstErr error
	)
	s.parallel(len(nodes), func(i int) {
		name := nodes[i].Name()
		for j, ws := range s.scores {
			v, st := ws.Plugin.Score(state, pod, nodes[i])
			if !st.IsSuccess() {
				errOnce.Do(func() { firstErr = errPlugin("score", ws.Plugin.Name(), st) })
				return
			}
			scores[j][i] = framework.NodeScore{Name: name, Score: v}
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	for j, ws := range s.scores {
		if n, ok := ws.Plugin.(framework.ScoreNormalizer); ok {
			if st := n.NormalizeScore(state, pod, scores[j]); !st.IsSuccess() {
				return nil, errPlugin("normalize score", ws.Plugin.Name(), st)
			}
		}
		for i, sc := range scores[j] {
			if sc.Score < framework.MinNodeScore || sc.Score > framework.MaxNodeScore {
				return nil, fmt.Errorf("score plugin %s: node %s scored %d, outside [%d, %d]",
					ws.Plugin.Name(), sc.Name, sc.Score, framework.MinNodeScore, framework.MaxNodeScore)
			}
			totals[i] += sc.Score * ws.Weight
		}
	}
	return totals, nil
}
