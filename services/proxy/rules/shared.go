package rules

// Shared reference-counts the elements several Services may hold at once
// (hairpin-endpoints: two Services over the same pod port). Filter turns
// per-Service adds and deletes into set changes: an element is added when
// its first holder appears and deleted when its last one goes.
type Shared struct {
	counts map[string]int
}

// NewShared returns an empty Shared.
func NewShared() *Shared { return &Shared{counts: map[string]int{}} }

// Filter counts o's shared elements and drops the adds and deletes that
// do not change the set. Deletes are counted first, as the batch applies
// them first.
func (s *Shared) Filter(o *Ops) {
	o.DelElements = s.filter(o.DelElements, -1)
	o.AddElements = s.filter(o.AddElements, 1)
}

func (s *Shared) filter(els []Element, delta int) []Element {
	out := els[:0:0]
	for _, e := range els {
		if e.Map != SetHairpin {
			out = append(out, e)
			continue
		}
		k := string(e.Key)
		before := s.counts[k]
		after := before + delta
		if after <= 0 {
			delete(s.counts, k)
		} else {
			s.counts[k] = after
		}
		if (delta > 0 && before == 0) || (delta < 0 && before == 1) {
			out = append(out, e)
		}
	}
	return out
}

// Dedup drops repeated elements of f (two ports of one Service over the
// same pod port give one hairpin element), so that each Service holds an
// element once.
func (f *Fragment) Dedup() {
	seen := make(map[string]bool, len(f.Elements))
	out := f.Elements[:0]
	for _, e := range f.Elements {
		k := elemKey(e)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	f.Elements = out
}
