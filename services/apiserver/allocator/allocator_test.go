package allocator

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

func newStore(t *testing.T) *storage.Store { return newStoreB(t) }

func newStoreB(t testing.TB) *storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := etcd.Open(ctx, etcd.Options{DataDir: t.TempDir(), UnsafeNoFsync: true}, zap.NewNop())
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(h.Close)
	return storage.New(h.Client, nil)
}

func newServices(t *testing.T, store *storage.Store, cidr, ports string) *Services {
	t.Helper()
	ips, err := NewIPs(store, cidr, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng, err := ParsePortRange(ports)
	if err != nil {
		t.Fatal(err)
	}
	return &Services{IPs: ips, Ports: NewPorts(store, rng, nil), Log: zap.NewNop()}
}

func svc(name, typ, clusterIP string, nodePorts ...int32) *corev1.Service {
	s := &corev1.Service{Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: &corev1.ServiceSpec{Type: typ, ClusterIp: clusterIP}}
	s.Spec.Ports = []*corev1.ServicePort{{Name: "http", Port: 80, Protocol: "TCP"}}
	for i, np := range nodePorts {
		if i == 0 {
			s.Spec.Ports[0].NodePort = np
			continue
		}
		s.Spec.Ports = append(s.Spec.Ports, &corev1.ServicePort{Name: "p" + string(rune('a'+i)), Port: int32(81 + i), Protocol: "TCP", NodePort: np})
	}
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func usedIPs(t *testing.T, a *Services) []string {
	t.Helper()
	ips, err := a.IPs.Used(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

func usedPorts(t *testing.T, a *Services) []int {
	t.Helper()
	p, err := a.Ports.Used(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantAPICode(t *testing.T, err error, want codes.Code, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v containing %q", want, contains)
	}
	st := apierr.FromError(err)
	if st.Code() != want || !strings.Contains(st.Message(), contains) {
		t.Fatalf("got %v %q, want %v containing %q", st.Code(), st.Message(), want, contains)
	}
}

// TestConcurrentAllocateNext: many concurrent allocations from one range
// never get the same address, and each one is marked in the bitmap.
func TestConcurrentAllocateNext(t *testing.T) {
	store := newStore(t)
	ips, err := NewIPs(store, "10.96.0.0/24", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var wg sync.WaitGroup
	got := make([]netip.Addr, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = ips.AllocateNext(ctx(t))
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("allocation %d: %v", i, errs[i])
		}
		if j, dup := seen[got[i]]; dup {
			t.Fatalf("allocations %d and %d both got %s", j, i, got[i])
		}
		seen[got[i]] = i
		if got[i] == ips.First() {
			t.Fatalf("allocation %d got the reserved first address %s", i, got[i])
		}
	}
	used, err := ips.Used(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != n {
		t.Fatalf("bitmap holds %d addresses, want %d", len(used), n)
	}
}

// TestTwoAllocators: two allocators over one etcd key, as two apiservers
// have, allocating at once never hand out one address twice, and one sees
// what the other took even when its own view is stale.
func TestTwoAllocators(t *testing.T) {
	store := newStore(t)
	var allocs [2]*IPs
	for i := range allocs {
		a, err := NewIPs(store, "10.96.0.0/24", nil)
		if err != nil {
			t.Fatal(err)
		}
		allocs[i] = a
	}
	// each has a cached view; b's write makes a's stale
	if _, err := allocs[0].AllocateNext(ctx(t)); err != nil {
		t.Fatal(err)
	}
	taken := netip.MustParseAddr("10.96.0.77")
	if err := allocs[1].Allocate(ctx(t), taken); err != nil {
		t.Fatal(err)
	}
	if err := allocs[0].Allocate(ctx(t), taken); err != ErrAllocated {
		t.Fatalf("a stale allocator took %s again: %v", taken, err)
	}
	const n = 100
	var wg sync.WaitGroup
	got := make([]netip.Addr, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = allocs[i%2].AllocateNext(ctx(t))
		}()
	}
	wg.Wait()
	seen := map[netip.Addr]bool{taken: true}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("allocation %d: %v", i, errs[i])
		}
		if seen[got[i]] {
			t.Fatalf("address %s handed out twice", got[i])
		}
		seen[got[i]] = true
	}
	used, err := allocs[1].Used(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != n+2 {
		t.Fatalf("bitmap holds %d addresses, want %d", len(used), n+2)
	}
}

// TestReconcile: a value held by no Service is freed on the second pass
// that finds it unheld, not the first (it may be an allocation still being
// stored); a held value missing from the bitmap is marked.
func TestReconcile(t *testing.T) {
	a := newServices(t, newStore(t), "10.96.0.0/24", "30000-30099")
	leak := svc("leak", "NodePort", "10.96.0.9", 30009)
	if _, err := a.Allocate(ctx(t), nil, leak); err != nil {
		t.Fatal(err)
	}
	stored := svc("stored", "ClusterIP", "10.96.0.20") // held but never allocated
	ips, ports := a.used([]*corev1.Service{stored})
	ipSus, freed, err := a.IPs.bitmap.Reconcile(ctx(t), ips, nil)
	if err != nil || freed != 0 {
		t.Fatalf("first pass freed %d, %v; want none", freed, err)
	}
	portSus, _, err := a.Ports.bitmap.Reconcile(ctx(t), ports, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := usedIPs(t, a); !slices.Equal(got, []string{"10.96.0.9", "10.96.0.20"}) {
		t.Fatalf("after the first pass: %v, want the suspect kept and the held one marked", got)
	}
	if _, freed, err = a.IPs.bitmap.Reconcile(ctx(t), ips, ipSus); err != nil || freed != 1 {
		t.Fatalf("second pass freed %d, %v; want 1", freed, err)
	}
	if _, freed, err = a.Ports.bitmap.Reconcile(ctx(t), ports, portSus); err != nil || freed != 1 {
		t.Fatalf("second pass freed %d node ports, %v; want 1", freed, err)
	}
	if got, p := usedIPs(t, a), usedPorts(t, a); !slices.Equal(got, []string{"10.96.0.20"}) || len(p) != 0 {
		t.Fatalf("after the second pass: IPs %v ports %v", got, p)
	}
}

// TestStaticBand: dynamic allocation keeps off the first addresses (where
// fixed ones such as the DNS Service's 10.96.0.10 live) until the rest of
// the range is used, then takes them too.
func TestStaticBand(t *testing.T) {
	ips, err := NewIPs(newStore(t), "10.96.0.0/27", nil) // 30 usable, a band of 16
	if err != nil {
		t.Fatal(err)
	}
	band := netip.MustParseAddr("10.96.0.17") // offsets 0-15 are .1-.16
	for i := range 14 {
		ip, err := ips.AllocateNext(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ip.Less(band) {
			t.Fatalf("allocation %d took %s inside the static band while addresses above it were free", i, ip)
		}
	}
	ip, err := ips.AllocateNext(ctx(t))
	if err != nil || !ip.Less(band) || ip == ips.First() {
		t.Fatalf("with the upper part used, got %s, %v; want an address of the band other than the first", ip, err)
	}
}

// TestExhaustTinyRange: a /29 has six usable addresses, the first reserved;
// after five Services the next gets ResourceExhausted naming the range, and
// nothing more is allocated. Freeing one makes room again.
func TestExhaustTinyRange(t *testing.T) {
	a := newServices(t, newStore(t), "10.96.0.0/29", "30000-30001")
	var first *corev1.Service
	for i := range 5 {
		s := svc("s"+string(rune('a'+i)), "ClusterIP", "")
		if _, err := a.Allocate(ctx(t), nil, s); err != nil {
			t.Fatalf("service %d: %v", i, err)
		}
		if first == nil {
			first = s
		}
	}
	before := usedIPs(t, a)
	_, err := a.Allocate(ctx(t), nil, svc("full", "ClusterIP", ""))
	wantAPICode(t, err, codes.ResourceExhausted, "10.96.0.0/29 is full")
	if after := usedIPs(t, a); len(after) != len(before) {
		t.Fatalf("the failed allocation changed the bitmap: %v -> %v", before, after)
	}
	// node ports: the range of two runs out on a Service wanting three; the
	// two it took are given back.
	_, err = a.Allocate(ctx(t), nil, svc("np", "NodePort", "10.96.0.1", 0, 0, 0))
	wantAPICode(t, err, codes.ResourceExhausted, "node port range 30000-30001 is full")
	if p := usedPorts(t, a); len(p) != 0 {
		t.Fatalf("node ports leaked after a failed allocation: %v", p)
	}
	if ips := usedIPs(t, a); len(ips) != 5 {
		t.Fatalf("the explicit cluster IP leaked after a failed allocation: %v", ips)
	}
	a.Release(ctx(t), first)
	if _, err := a.Allocate(ctx(t), nil, svc("again", "ClusterIP", "")); err != nil {
		t.Fatalf("after a release: %v", err)
	}
}
