package nft

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tugboat-sh/tugboat/services/proxy/rules"
)

var netnsSeq atomic.Int32

// netns makes a network namespace for the test and returns an open fd of
// it; it needs root and nft(8), which CI has.
func netns(t testing.TB) (string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("programming nftables needs root, which CI has")
		}
		t.Skip("programming nftables needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Fatalf("nft is needed to inspect the table: %v", err)
	}
	name := fmt.Sprintf("tugproxy-nft-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return name, int(f.Fd())
}

func list(t testing.TB, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	return string(out)
}

func TestReplaceApplyDelete(t *testing.T) {
	ns, fd := netns(t)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rules.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	sp := &rules.ServicePort{Namespace: "default", Name: "web", PortName: "http", Protocol: rules.TCP,
		ClusterIP: netip.MustParseAddr("10.96.0.20"), Port: 80, NodePort: 30080,
		Endpoints: []rules.Endpoint{{IP: netip.MustParseAddr("10.244.1.2"), Port: 8080}, {IP: netip.MustParseAddr("10.244.1.3"), Port: 8080}}}
	frag := rules.Service(cfg, sp)
	if err := tbl.Replace(rules.Base(cfg), rules.Diff(nil, frag)); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	got := list(t, ns)
	for _, want := range []string{
		"table ip tugboat-proxy",
		"10.96.0.20 . tcp . 80 : goto " + rules.ServiceChain(sp),
		"tcp . 30080 : goto " + rules.ServiceChain(sp),
		"fib daddr type local meta l4proto . th dport @nodeports jump mark-for-masquerade",
		"numgen random mod 2 vmap { 0 : goto " + rules.EndpointChain(sp, sp.Endpoints[0]),
		"dnat to 10.244.1.3:8080",
		"ip daddr 10.96.0.0/12 goto reject-chain",
		"ip daddr 10.96.0.0/12 ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
		"fib daddr type local meta l4proto . th dport vmap @service-nodeports",
		"masquerade fully-random",
		"reject with tcp reset",
		"ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct status ! dnat drop",
		"10.244.1.2 . 10.244.1.2 . tcp . 8080",
		"ip saddr . ip daddr . meta l4proto . th dport @hairpin-endpoints masquerade fully-random",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, got)
		}
	}

	// One endpoint leaves: only its chain goes and the vmap shrinks.
	sp2 := *sp
	sp2.Endpoints = sp.Endpoints[:1]
	frag2 := rules.Service(cfg, &sp2)
	if err := tbl.Apply(rules.Diff(frag, frag2)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got = list(t, ns)
	if tbl.Stale() != 1 || !strings.Contains(got, rules.EndpointChain(sp, sp.Endpoints[1])) {
		t.Errorf("the removed endpoint's chain should be left empty until the next transaction (stale %d):\n%s", tbl.Stale(), got)
	}
	if err := tbl.Apply(rules.Ops{}); err != nil {
		t.Fatalf("Apply of the stale chain: %v", err)
	}
	got = list(t, ns)
	if strings.Contains(got, rules.EndpointChain(sp, sp.Endpoints[1])) || !strings.Contains(got, "numgen random mod 1 vmap") {
		t.Errorf("endpoint 10.244.1.3 should be gone, one left:\n%s", got)
	}
	// No endpoints left: reject elements instead of chains.
	sp3 := *sp
	sp3.Endpoints = nil
	if err := tbl.Apply(rules.Diff(frag2, rules.Service(cfg, &sp3))); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := tbl.Apply(rules.Ops{}); err != nil {
		t.Fatalf("Apply of the stale chains: %v", err)
	}
	got = list(t, ns)
	if strings.Contains(got, rules.ServiceChain(sp)) || !strings.Contains(got, "10.96.0.20 . tcp . 80 : goto reject-chain") {
		t.Errorf("service should reject with no endpoints:\n%s", got)
	}

	if err := tbl.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if ok, err := tbl.Exists(); err != nil || ok {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	if err := tbl.Delete(); err != nil {
		t.Fatalf("Delete of a missing table: %v", err)
	}
}

// TestLargeSetsAreComplete programs 1,000 Services of 10 endpoints and
// counts the elements the kernel holds: element lists longer than one
// netlink attribute carries must be split, not cut.
func TestLargeSetsAreComplete(t *testing.T) {
	ns, fd := netns(t)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		t.Fatal(err)
	}
	svcs := benchServices(1000, 10)
	var ops rules.Ops
	for i := range svcs {
		ops.Append(rules.Diff(nil, rules.Service(benchCfg, &svcs[i])))
	}
	if err := tbl.Replace(rules.Base(benchCfg), ops); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	for set, want := range map[string]int{rules.MapServiceIPs: 1000, rules.MapServiceNodePorts: 1000, rules.SetNodePorts: 1000, rules.SetHairpin: 10000} {
		kind := "map"
		if set == rules.SetNodePorts || set == rules.SetHairpin {
			kind = "set"
		}
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", kind, "ip", "tugboat-proxy", set).Output()
		if err != nil {
			t.Fatalf("nft list set %s: %v", set, err)
		}
		var doc struct {
			Nftables []struct {
				Set *struct {
					Elem []json.RawMessage `json:"elem"`
				} `json:"set"`
				Map *struct {
					Elem []json.RawMessage `json:"elem"`
				} `json:"map"`
			} `json:"nftables"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("nft -j list set %s: %v", set, err)
		}
		got := 0
		for _, o := range doc.Nftables {
			if o.Set != nil {
				got += len(o.Set.Elem)
			}
			if o.Map != nil {
				got += len(o.Map.Elem)
			}
		}
		if got != want {
			t.Errorf("%s holds %d elements, want %d", set, got, want)
		}
	}
}

// TestFailedTransactionsLeaveNoResidue makes transactions fail, some
// refused before anything is sent (a numgen map too large for one
// message) and one refused by the kernel (a map element jumping to a
// missing chain), and checks that each later transaction programs exactly
// what it carries: nothing of a failed batch may linger.
func TestFailedTransactionsLeaveNoResidue(t *testing.T) {
	ns, fd := netns(t)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rules.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")}
	one := &rules.ServicePort{Namespace: "default", Name: "web", Protocol: rules.TCP,
		ClusterIP: netip.MustParseAddr("10.96.0.20"), Port: 80,
		Endpoints: []rules.Endpoint{{IP: netip.MustParseAddr("10.244.1.2"), Port: 8080}}}
	two := *one
	two.Endpoints = append(two.Endpoints, rules.Endpoint{IP: netip.MustParseAddr("10.244.1.3"), Port: 8080})
	fragOne, fragTwo := rules.Service(cfg, one), rules.Service(cfg, &two)
	if err := tbl.Replace(rules.Base(cfg), rules.Diff(nil, fragOne)); err != nil {
		t.Fatalf("Replace: %v", err)
	}

	huge := make([]string, 2000)
	for i := range huge {
		huge[i] = fmt.Sprintf("endpoint-oversized-%04d", i)
	}
	oversized := rules.Ops{AddChains: []string{"oversized"}, FillChains: []rules.Chain{{Name: "oversized", Rules: []rules.Rule{{VMapTargets: huge}}}}}
	if err := tbl.Replace(rules.Base(cfg), oversized); err == nil || !strings.Contains(err.Error(), "chain oversized") {
		t.Fatalf("Replace of an oversized numgen map = %v, want an error naming the chain", err)
	}
	if err := tbl.Apply(oversized); err == nil || !strings.Contains(err.Error(), "chain oversized") {
		t.Fatalf("Apply of an oversized numgen map = %v, want an error naming the chain", err)
	}
	if err := tbl.Apply(rules.Diff(fragOne, fragTwo)); err != nil {
		t.Fatalf("Apply after refused ones: %v", err)
	}
	if got := list(t, ns); strings.Contains(got, "oversized") || !strings.Contains(got, "numgen random mod 2 vmap") {
		t.Fatalf("the Apply after refused ones should carry exactly its own changes:\n%s", got)
	}

	bad := rules.Ops{AddElements: []rules.Element{{Map: rules.MapServiceIPs,
		Key: rules.ServiceKey(netip.MustParseAddr("10.96.0.99"), rules.TCP, 80), Chain: "no-such-chain"}}}
	if err := tbl.Apply(bad); err == nil {
		t.Fatal("Apply of an element jumping to a missing chain succeeded")
	}
	if err := tbl.Apply(rules.Diff(fragTwo, fragOne)); err != nil {
		t.Fatalf("Apply after a failed one: %v", err)
	}
	if got := list(t, ns); strings.Contains(got, "10.96.0.99") || !strings.Contains(got, "numgen random mod 1 vmap") {
		t.Errorf("the Apply after a failed one should carry exactly its own changes:\n%s", got)
	}
}

// TestServiceWithManyEndpoints programs one Service port with 1,000
// endpoints, more than one numgen map carries, then removes one: the
// kernel must hold a DNAT for every endpoint, reached through group
// chains.
func TestServiceWithManyEndpoints(t *testing.T) {
	ns, fd := netns(t)
	tbl, err := New("tugboat-proxy", fd)
	if err != nil {
		t.Fatal(err)
	}
	sp := benchServices(1, 0)[0]
	for i := range 1000 {
		sp.Endpoints = append(sp.Endpoints, rules.Endpoint{IP: netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), Port: 8080})
	}
	frag := rules.Service(benchCfg, &sp)
	if err := tbl.Replace(rules.Base(benchCfg), rules.Diff(nil, frag)); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	count := func(want int) {
		t.Helper()
		got := list(t, ns)
		if n := strings.Count(got, "dnat to 10.244."); n != want {
			t.Fatalf("%d DNAT rules, want %d", n, want)
		}
		if !strings.Contains(got, "goto "+rules.GroupChain(&sp, 1)) || !strings.Contains(got, "chain "+rules.GroupChain(&sp, 1)) {
			t.Fatalf("group chain %s missing", rules.GroupChain(&sp, 1))
		}
	}
	count(1000)
	smaller := sp
	smaller.Endpoints = sp.Endpoints[1:]
	if err := tbl.Apply(rules.Diff(frag, rules.Service(benchCfg, &smaller))); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := tbl.Apply(rules.Ops{}); err != nil {
		t.Fatalf("Apply of the stale chain: %v", err)
	}
	count(999)
}
