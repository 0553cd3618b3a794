package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func manyEndpoints(n int) *ServicePort {
	sp := &ServicePort{Namespace: "default", Name: "big", PortName: "http", Protocol: TCP,
		ClusterIP: netip.MustParseAddr("10.96.0.50"), Port: 80, NodePort: 30050}
	for i := range n {
		sp.Endpoints = append(sp.Endpoints, Endpoint{IP: netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), Port: 8080})
	}
	return sp
}

// TestServiceEndpointGroups checks the numgen maps of Service ports with
// few and with many endpoints: one map while it fits one netlink message,
// groups of nearly equal size otherwise, every endpoint reached once.
func TestServiceEndpointGroups(t *testing.T) {
	for _, tc := range []struct {
		endpoints int
		grouped   bool
	}{
		{endpoints: 10, grouped: false},
		{endpoints: 1000, grouped: true},
		{endpoints: 5000, grouped: true},
	} {
		t.Run(fmt.Sprintf("%d endpoints", tc.endpoints), func(t *testing.T) {
			sp := manyEndpoints(tc.endpoints)
			f := Service(testCfg, sp)
			if err := f.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			chains := map[string]Chain{}
			for _, c := range f.Chains {
				chains[c.Name] = c
			}
			svc, ok := chains[ServiceChain(sp)]
			if !ok || len(svc.Rules) != 1 {
				t.Fatalf("service chain missing or not one rule: %+v", svc)
			}
			top := svc.Rules[0].VMapTargets
			var reached []string
			if !tc.grouped {
				if len(top) != tc.endpoints {
					t.Fatalf("service map has %d targets, want the %d endpoints", len(top), tc.endpoints)
				}
				reached = top
			} else {
				if len(top) < 2 {
					t.Fatalf("service map has %d targets, want groups", len(top))
				}
				minSize, maxSize := tc.endpoints, 0
				for g, name := range top {
					if name != GroupChain(sp, g) {
						t.Fatalf("target %d is %s, want group chain %s", g, name, GroupChain(sp, g))
					}
					gc, ok := chains[name]
					if !ok || len(gc.Rules) != 1 || len(gc.Rules[0].Exprs) != 0 {
						t.Fatalf("group chain %s missing or not one bare numgen rule: %+v", name, gc)
					}
					members := gc.Rules[0].VMapTargets
					if VMapSize(members) > MaxElemList {
						t.Fatalf("group %d's map is %d bytes, over %d", g, VMapSize(members), MaxElemList)
					}
					minSize, maxSize = min(minSize, len(members)), max(maxSize, len(members))
					reached = append(reached, members...)
				}
				if maxSize-minSize > 1 {
					t.Fatalf("group sizes range %d..%d, want within one of each other", minSize, maxSize)
				}
			}
			var want []string
			for _, ep := range sp.Endpoints {
				want = append(want, EndpointChain(sp, ep))
				if _, ok := chains[EndpointChain(sp, ep)]; !ok {
					t.Fatalf("endpoint chain of %v missing", ep)
				}
			}
			slices.Sort(want)
			slices.Sort(reached)
			if !slices.Equal(reached, want) {
				t.Fatalf("numgen maps reach %d chains, want each of the %d endpoints once", len(reached), len(want))
			}
		})
	}
}

func TestCheckRefusesOversizedMaps(t *testing.T) {
	targets := make([]string, 2000)
	for i := range targets {
		targets[i] = fmt.Sprintf("endpoint-%04d", i)
	}
	for _, tc := range []struct {
		name    string
		f       Fragment
		wantErr string
	}{
		{name: "fits", f: Fragment{Chains: []Chain{{Name: "small", Rules: []Rule{{VMapTargets: targets[:10]}}}}}},
		{name: "too large", f: Fragment{Chains: []Chain{{Name: "big", Rules: []Rule{{VMapTargets: targets}}}}}, wantErr: "chain big: numgen map of 2000 targets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Check()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Check: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Check = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
