package app

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/proxy/rules"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// store is a map-backed lister.
type store[T informer.Object] map[string]T

func (s store[T]) Get(ns, name string) (T, bool) {
	v, ok := s[ns+"/"+name]
	return v, ok
}

func (s store[T]) List(labels.Selector) []T {
	var out []T
	for _, v := range s {
		out = append(out, v)
	}
	return out
}

func (s store[T]) put(v T) { s[informer.Key(v.GetMetadata())] = v }

// recorder records what the proxier sends; fail makes the next call fail.
// Like nft.Table, it refuses numgen maps too large for one message.
type recorder struct {
	replaces []rules.Ops
	applies  []rules.Ops
	fail     bool
}

func (r *recorder) Replace(_ rules.Layout, ops rules.Ops) error {
	if r.fail {
		r.fail = false
		return errors.New("netlink: boom")
	}
	if err := checkOps(ops); err != nil {
		return err
	}
	r.replaces = append(r.replaces, ops)
	return nil
}

func (r *recorder) Apply(ops rules.Ops) error {
	if r.fail {
		r.fail = false
		return errors.New("netlink: boom")
	}
	if err := checkOps(ops); err != nil {
		return err
	}
	r.applies = append(r.applies, ops)
	return nil
}

func checkOps(ops rules.Ops) error {
	for _, c := range ops.FillChains {
		if err := rules.CheckRules(c.Name, c.Rules); err != nil {
			return err
		}
	}
	return nil
}

func svc(name, ip string) *corev1.Service {
	return &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: ip, Ports: []*corev1.ServicePort{{Protocol: "TCP", Port: 80}}}}
}

func eps(name string, ips ...string) *corev1.Endpoints {
	ss := &corev1.EndpointSubset{Ports: []*corev1.EndpointPort{{Protocol: "TCP", Port: 8080}}}
	for _, ip := range ips {
		ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: ip})
	}
	return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name}, Subsets: []*corev1.EndpointSubset{ss}}
}

func chainsOf(ops rules.Ops) []string {
	var out []string
	for _, c := range ops.FillChains {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

func TestProxierSyncs(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rules.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	rec := &recorder{}
	p := newProxier(cfg, rec, m, zap.NewNop())
	services, endpoints := store[*corev1.Service]{}, store[*corev1.Endpoints]{}
	p.services, p.endpoints = services, endpoints
	ready := 0
	p.onReady = func() { ready++ }
	services.put(svc("a", "10.96.0.1"))
	endpoints.put(eps("a", "10.244.0.2"))
	services.put(svc("b", "10.96.0.2"))
	endpoints.put(eps("b", "10.244.0.3"))
	services.put(svc("headless", "None"))

	t.Run("the first sync is a full replace and makes it ready", func(t *testing.T) {
		if err := p.sync(); err != nil {
			t.Fatal(err)
		}
		if len(rec.replaces) != 1 || len(rec.applies) != 0 || ready != 1 {
			t.Fatalf("replaces %d, applies %d, ready %d", len(rec.replaces), len(rec.applies), ready)
		}
		if got := len(rec.replaces[0].FillChains); got != 4 {
			t.Fatalf("full sync fills %d chains, want 4 (two Services of one endpoint)", got)
		}
	})
	t.Run("a change applies only the dirty Service", func(t *testing.T) {
		e := proto.Clone(eps("a", "10.244.0.2", "10.244.0.4")).(*corev1.Endpoints)
		endpoints.put(e)
		p.mark(e)
		if err := p.sync(); err != nil {
			t.Fatal(err)
		}
		if len(rec.applies) != 1 {
			t.Fatalf("applies %d, want 1", len(rec.applies))
		}
		sp := &rules.ServicePort{Namespace: "default", Name: "a", Protocol: rules.TCP}
		want := []string{rules.EndpointChain(sp, rules.Endpoint{IP: netip.MustParseAddr("10.244.0.4"), Port: 8080}), rules.ServiceChain(sp)}
		slices.Sort(want)
		if got := chainsOf(rec.applies[0]); !slices.Equal(got, want) {
			t.Fatalf("filled %v, want %v", got, want)
		}
	})
	t.Run("nothing dirty sends an empty batch", func(t *testing.T) {
		if err := p.sync(); err != nil {
			t.Fatal(err)
		}
		if last := rec.applies[len(rec.applies)-1]; !last.Empty() {
			t.Fatalf("ops %+v", last)
		}
	})
	t.Run("a failure makes the next sync full", func(t *testing.T) {
		s := svc("b", "10.96.0.2")
		services.put(s)
		p.mark(s)
		rec.fail = true
		if err := p.sync(); err == nil {
			t.Fatal("sync succeeded, want the table's error")
		}
		if err := p.sync(); err != nil {
			t.Fatal(err)
		}
		if len(rec.replaces) != 2 || ready != 1 {
			t.Fatalf("replaces %d (want 2), ready called %d times (want 1)", len(rec.replaces), ready)
		}
		if got := testutil.ToFloat64(m.syncs.WithLabelValues("error")); got != 1 {
			t.Fatalf("error syncs %v, want 1", got)
		}
	})
	t.Run("a deleted Service is removed", func(t *testing.T) {
		s := services["default/b"]
		delete(services, "default/b")
		p.mark(s)
		if err := p.sync(); err != nil {
			t.Fatal(err)
		}
		last := rec.applies[len(rec.applies)-1]
		if len(last.DelChains) != 2 || len(last.DelElements) != 2 {
			t.Fatalf("ops %+v, want b's two chains and two elements deleted", last)
		}
		if _, ok := p.applied["default/b"]; ok {
			t.Fatal("b still counted as applied")
		}
	})
	if got := testutil.ToFloat64(m.rules); got <= 0 {
		t.Fatalf("rules programmed %v", got)
	}
}

// TestProxierSkipsOversizedService has one Service with more endpoints
// than even groups of numgen maps hold (long names, 45,000 endpoints):
// it alone is left out and counted, the others are programmed, and the
// syncs succeed.
func TestProxierSkipsOversizedService(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rules.Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")}
	rec := &recorder{}
	p := newProxier(cfg, rec, m, zap.NewNop())
	services, endpoints := store[*corev1.Service]{}, store[*corev1.Endpoints]{}
	p.services, p.endpoints = services, endpoints
	services.put(svc("a", "10.96.0.1"))
	endpoints.put(eps("a", "10.244.0.2"))

	long := strings.Repeat("x", 63)
	big := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: long, Name: long},
		Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "10.96.0.3", Ports: []*corev1.ServicePort{{Name: "http-port-name1", Protocol: "TCP", Port: 80}}}}
	ss := &corev1.EndpointSubset{Ports: []*corev1.EndpointPort{{Name: "http-port-name1", Protocol: "TCP", Port: 8080}}}
	for i := range 45000 {
		ss.Addresses = append(ss.Addresses, &corev1.EndpointAddress{Ip: netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}).String()})
	}
	services.put(big)
	endpoints.put(&corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: long, Name: long}, Subsets: []*corev1.EndpointSubset{ss}})
	// The premise: this Service cannot be programmed.
	ports, err := rules.FromAPI(big, endpoints[long+"/"+long])
	if err != nil || len(ports) != 1 {
		t.Fatalf("FromAPI = %d ports, %v", len(ports), err)
	}
	if err := rules.Service(cfg, &ports[0]).Check(); err == nil {
		t.Fatal("the oversized Service passes Check; the test needs one that does not")
	}

	if err := p.sync(); err != nil {
		t.Fatalf("full sync with an oversized Service: %v", err)
	}
	if len(rec.replaces) != 1 || len(rec.replaces[0].FillChains) != 2 {
		t.Fatalf("replaces %d; want one filling a's two chains", len(rec.replaces))
	}
	if _, ok := p.applied[long+"/"+long]; ok {
		t.Fatal("the oversized Service counts as applied")
	}
	p.mark(big)
	if err := p.sync(); err != nil {
		t.Fatalf("sync of the dirty oversized Service: %v", err)
	}
	if got := testutil.ToFloat64(m.skipped.WithLabelValues(skipTooLarge)); got != 2 {
		t.Fatalf("skipped too_large %v, want 2 (one per sync)", got)
	}
	if got := testutil.ToFloat64(m.syncs.WithLabelValues("error")); got != 0 {
		t.Fatalf("error syncs %v, want 0", got)
	}
}
