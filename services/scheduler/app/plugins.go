package app

import (
	"fmt"

	"github.com/tugboat-sh/tugboat/services/scheduler/core"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/leastallocated"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeaffinity"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeports"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/nodeready"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/noderesources"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/ownerspread"
	"github.com/tugboat-sh/tugboat/services/scheduler/plugins/tainttoleration"
)

// registry lists every plugin the scheduler can run, by name.
var registry = framework.Registry{
	nodeready.Name:       func() framework.Plugin { return nodeready.New() },
	tainttoleration.Name: func() framework.Plugin { return tainttoleration.New() },
	nodeaffinity.Name:    func() framework.Plugin { return nodeaffinity.New() },
	nodeports.Name:       func() framework.Plugin { return nodeports.New() },
	noderesources.Name:   func() framework.Plugin { return noderesources.New() },
	leastallocated.Name:  func() framework.Plugin { return leastallocated.New() },
	ownerspread.Name:     func() framework.Plugin { return ownerspread.New() },
}

// profile is which plugins run, in order, and how scores weigh.
type profile struct {
	filters []string
	scores  []weighted
}

type weighted struct {
	name   string
	weight int64
}

// defaultProfile follows Kubernetes' defaults: the cheap, decisive
// filters first (they name the reason an unschedulable pod reports), and
// its weights: taints 3, affinity and spreading 2, free resources 1.
var defaultProfile = profile{
	filters: []string{nodeready.Name, tainttoleration.Name, nodeaffinity.Name, nodeports.Name, noderesources.Name},
	scores: []weighted{
		{tainttoleration.Name, 3},
		{nodeaffinity.Name, 2},
		{ownerspread.Name, 2},
		{leastallocated.Name, 1},
	},
}

// build instantiates the plugins of p from reg, each once however many
// extension points it serves.
func (p profile) build(reg framework.Registry) (filters []framework.FilterPlugin, scores []core.WeightedScore, err error) {
	made := map[string]framework.Plugin{}
	get := func(name string) (framework.Plugin, error) {
		if pl, ok := made[name]; ok {
			return pl, nil
		}
		factory, ok := reg[name]
		if !ok {
			return nil, fmt.Errorf("plugin %q is not registered", name)
		}
		made[name] = factory()
		return made[name], nil
	}
	for _, name := range p.filters {
		pl, err := get(name)
		if err != nil {
			return nil, nil, err
		}
		f, ok := pl.(framework.FilterPlugin)
		if !ok {
			return nil, nil, fmt.Errorf("plugin %q is not a filter plugin", name)
		}
		filters = append(filters, f)
	}
	for _, w := range p.scores {
		pl, err := get(w.name)
		if err != nil {
			return nil, nil, err
		}
		s, ok := pl.(framework.ScorePlugin)
		if !ok {
			return nil, nil, fmt.Errorf("plugin %q is not a score plugin", w.name)
		}
		scores = append(scores, core.WeightedScore{Plugin: s, Weight: w.weight})
	}
	return filters, scores, nil
}
