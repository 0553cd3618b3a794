package rules

import (
	"reflect"
)

// Ops are the changes that turn one set of fragments into another, in the
// order the netlink layer applies them in one batch: create chains, fill
// (flush and refill) chains, delete elements, add elements, delete chains.
type Ops struct {
	// AddChains are chains that do not exist yet.
	AddChains []string
	// FillChains are new or changed chains with their full rules.
	FillChains  []Chain
	DelElements []Element
	AddElements []Element
	// DelChains exist and are no longer wanted.
	DelChains []string
}

// Empty reports whether o changes nothing.
func (o *Ops) Empty() bool {
	return len(o.AddChains)+len(o.FillChains)+len(o.DelElements)+len(o.AddElements)+len(o.DelChains) == 0
}

// Append adds p's operations to o.
func (o *Ops) Append(p Ops) {
	o.AddChains = append(o.AddChains, p.AddChains...)
	o.FillChains = append(o.FillChains, p.FillChains...)
	o.DelElements = append(o.DelElements, p.DelElements...)
	o.AddElements = append(o.AddElements, p.AddElements...)
	o.DelChains = append(o.DelChains, p.DelChains...)
}

// Diff returns the operations from old to new; either may be nil (a
// Service port added or removed).
func Diff(old, new *Fragment) Ops {
	var o Ops
	oldChains := map[string]Chain{}
	if old != nil {
		for _, c := range old.Chains {
			oldChains[c.Name] = c
		}
	}
	newChains := map[string]bool{}
	if new != nil {
		for _, c := range new.Chains {
			newChains[c.Name] = true
			prev, ok := oldChains[c.Name]
			if !ok {
				o.AddChains = append(o.AddChains, c.Name)
				o.FillChains = append(o.FillChains, c)
			} else if !reflect.DeepEqual(prev.Rules, c.Rules) {
				o.FillChains = append(o.FillChains, c)
			}
		}
	}
	if old != nil {
		for _, c := range old.Chains {
			if !newChains[c.Name] {
				o.DelChains = append(o.DelChains, c.Name)
			}
		}
	}
	var oldEl, newEl []Element
	if old != nil {
		oldEl = old.Elements
	}
	if new != nil {
		newEl = new.Elements
	}
	oldIdx, newIdx := index(oldEl), index(newEl)
	for _, e := range oldEl {
		if n, ok := newIdx[elemKey(e)]; !ok || n.Chain != e.Chain {
			o.DelElements = append(o.DelElements, e)
		}
	}
	for _, e := range newEl {
		if p, ok := oldIdx[elemKey(e)]; !ok || p.Chain != e.Chain {
			o.AddElements = append(o.AddElements, e)
		}
	}
	return o
}

// elemKey identifies an element: its map and key.
func elemKey(e Element) string { return e.Map + "\x00" + string(e.Key) }

// index maps the elements of a fragment by elemKey. A fragment holds a
// Service's elements: a few map entries per port plus one hairpin element
// per endpoint, so thousands for a large Service; a scan per element
// would be quadratic.
func index(els []Element) map[string]Element {
	m := make(map[string]Element, len(els))
	for _, e := range els {
		m[elemKey(e)] = e
	}
	return m
}
