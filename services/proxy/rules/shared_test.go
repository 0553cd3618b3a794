package rules

import (
	"net/netip"
	"testing"
)

func TestSharedHairpinElements(t *testing.T) {
	ep := Endpoint{IP: netip.MustParseAddr("10.244.0.5"), Port: 8080}
	mk := func(name, ip string) *Fragment {
		return Service(testCfg, &ServicePort{Namespace: "a", Name: name, Protocol: TCP, ClusterIP: netip.MustParseAddr(ip), Port: 80, Endpoints: []Endpoint{ep}})
	}
	a, b := mk("a", "10.96.0.1"), mk("b", "10.96.0.2")
	hairpins := func(els []Element) int {
		n := 0
		for _, e := range els {
			if e.Map == SetHairpin {
				n++
			}
		}
		return n
	}
	s := NewShared()
	steps := []struct {
		name         string
		old, new     *Fragment
		wantAdd, del int
	}{
		{"first holder adds", nil, a, 1, 0},
		{"second holder adds nothing", nil, b, 0, 0},
		{"first holder leaves, element stays", a, nil, 0, 0},
		{"last holder leaves, element goes", b, nil, 0, 1},
		{"comes back", nil, a, 1, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			o := Diff(st.old, st.new)
			s.Filter(&o)
			if got := hairpins(o.AddElements); got != st.wantAdd {
				t.Errorf("adds %d hairpin elements, want %d", got, st.wantAdd)
			}
			if got := hairpins(o.DelElements); got != st.del {
				t.Errorf("deletes %d hairpin elements, want %d", got, st.del)
			}
		})
	}
	t.Run("dedup keeps one element per key", func(t *testing.T) {
		f := &Fragment{Elements: []Element{{Map: SetHairpin, Key: HairpinKey(ep, TCP)}, {Map: SetHairpin, Key: HairpinKey(ep, TCP)}, {Map: MapServiceIPs, Key: []byte{1}}}}
		f.Dedup()
		if len(f.Elements) != 2 {
			t.Fatalf("%d elements after Dedup, want 2", len(f.Elements))
		}
	})
}
