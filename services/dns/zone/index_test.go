package zone

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fixture"
)

func addrs(x *Index, name string) ([]string, bool) {
	rrs, ok := x.Lookup(name)
	var out []string
	if rrs != nil {
		for _, a := range rrs.Addrs {
			out = append(out, a.String())
		}
	}
	slices.Sort(out)
	return out, ok
}

func TestIndexFollowsChanges(t *testing.T) {
	const web = "web.default.svc.cluster.local."
	x := NewIndex("Cluster.Local")
	x.SetService(fixture.Service("default", "web", "10.96.0.20"))
	t.Run("added", func(t *testing.T) {
		if got, ok := addrs(x, web); !ok || !slices.Equal(got, []string{"10.96.0.20"}) {
			t.Fatalf("%s = %v %v", web, got, ok)
		}
		if _, ok := x.Lookup("default.svc.cluster.local."); !ok {
			t.Fatal("the namespace's name does not exist")
		}
	})
	t.Run("clusterIP changed", func(t *testing.T) {
		x.SetService(fixture.Service("default", "web", "10.96.0.21"))
		if got, _ := addrs(x, web); !slices.Equal(got, []string{"10.96.0.21"}) {
			t.Fatalf("%s = %v", web, got)
		}
		if _, ok := x.Lookup(Reverse(netip.MustParseAddr("10.96.0.20"))); ok {
			t.Fatal("the old address's PTR remains")
		}
		if rrs, ok := x.Lookup("21.0.96.10.in-addr.arpa."); !ok || !slices.Equal(rrs.PTR, []string{web}) {
			t.Fatalf("PTR = %v %v", rrs, ok)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		x.DeleteService(fixture.Service("default", "web", "10.96.0.21"))
		for _, n := range []string{web, "default.svc.cluster.local.", "svc.cluster.local.", "21.0.96.10.in-addr.arpa."} {
			if _, ok := x.Lookup(n); ok {
				t.Fatalf("%s exists after the only Service went", n)
			}
		}
		if x.Len() != 0 {
			t.Fatalf("%d names left", x.Len())
		}
	})
}

func TestIndexHeadless(t *testing.T) {
	const head = "head.default.svc.cluster.local."
	x := NewIndex("cluster.local")
	ep := fixture.Endpoints("default", "head",
		[]*corev1.EndpointAddress{fixture.Addr("10.244.0.5", "web-0")},
		[]*corev1.EndpointAddress{fixture.Addr("10.244.0.7", "")},
		fixture.EPort("http", "TCP", 8080))
	// Endpoints first: the informers are independent, either may lead.
	x.SetEndpoints(ep)
	if _, ok := x.Lookup(head); ok {
		t.Fatal("Endpoints without their Service made names")
	}
	svc := fixture.Service("default", "head", Headless)
	x.SetService(svc)
	if got, _ := addrs(x, head); !slices.Equal(got, []string{"10.244.0.5"}) {
		t.Fatalf("%s = %v", head, got)
	}
	t.Run("publishNotReadyAddresses", func(t *testing.T) {
		svc.Spec.PublishNotReadyAddresses = true
		x.SetService(svc)
		if got, _ := addrs(x, head); !slices.Equal(got, []string{"10.244.0.5", "10.244.0.7"}) {
			t.Fatalf("%s = %v", head, got)
		}
		if got, _ := addrs(x, "10-244-0-7."+head); !slices.Equal(got, []string{"10.244.0.7"}) {
			t.Fatalf("not-ready address name = %v", got)
		}
	})
	t.Run("Endpoints deleted", func(t *testing.T) {
		x.DeleteEndpoints(ep)
		got, ok := addrs(x, head)
		if !ok || len(got) != 0 {
			t.Fatalf("%s = %v %v, want an existing name without addresses", head, got, ok)
		}
		if _, ok := x.Lookup("web-0." + head); ok {
			t.Fatal("the endpoint's hostname remains")
		}
		if _, ok := x.Lookup("_http._tcp." + head); ok {
			t.Fatal("the endpoint's SRV remains")
		}
	})
}

func TestIndexSharedNames(t *testing.T) {
	// Two Services claiming one ClusterIP (a transient state) share its PTR.
	x := NewIndex("cluster.local")
	x.SetService(fixture.Service("a", "s", "10.96.0.9"))
	x.SetService(fixture.Service("b", "s", "10.96.0.9"))
	rrs, _ := x.Lookup("9.0.96.10.in-addr.arpa.")
	if len(rrs.PTR) != 2 {
		t.Fatalf("PTR = %v, want both Services", rrs.PTR)
	}
	x.DeleteService(fixture.Service("a", "s", ""))
	rrs, _ = x.Lookup("9.0.96.10.in-addr.arpa.")
	if !slices.Equal(rrs.PTR, []string{"s.b.svc.cluster.local."}) {
		t.Fatalf("PTR = %v after a's Service went", rrs.PTR)
	}
	if _, ok := x.Lookup("svc.cluster.local."); !ok {
		t.Fatal("svc.cluster.local. vanished while b's Service remains")
	}
}
