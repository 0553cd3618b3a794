package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	dnsapp "github.com/tugboat-sh/tugboat/services/dns/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// fakeDNSUpstream answers every A query with 192.0.2.99 on 127.0.0.1.
func fakeDNSUpstream(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		if rr, err := dns.NewRR(req.Question[0].Name + " 60 IN A 192.0.2.99"); err == nil {
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr().String()
}

// dnsLookup asks addr for name's records of type qtype over UDP and returns
// the response code and the answers' data, sorted.
func dnsLookup(addr, name string, qtype uint16) (int, []string, error) {
	c := &dns.Client{Net: "udp"}
	resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, qtype), addr)
	if err != nil {
		return 0, nil, err
	}
	var out []string
	for _, rr := range resp.Answer {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.SRV:
			out = append(out, fmt.Sprintf("%d %s", r.Port, r.Target))
		default:
			out = append(out, rr.String())
		}
	}
	slices.Sort(out)
	return resp.Rcode, out, nil
}

// waitDNSAnswer polls until name answers rcode with want.
func waitDNSAnswer(t *testing.T, addr, name string, qtype uint16, rcode int, want ...string) {
	t.Helper()
	harness.Poll(t, waitTimeout, fmt.Sprintf("%s %s answers %s %v", name, dns.TypeToString[qtype], dns.RcodeToString[rcode], want), func() (bool, string) {
		code, got, err := dnsLookup(addr, name, qtype)
		if err != nil {
			return false, err.Error()
		}
		return code == rcode && slices.Equal(got, want), fmt.Sprintf("%s %v", dns.RcodeToString[code], got)
	})
}

// TestDNSFollowsServices runs the DNS server against the in-process
// apiserver and queries it over UDP on 127.0.0.1 while Services and
// Endpoints are created, changed and deleted through the clientset.
func TestDNSFollowsServices(t *testing.T) {
	api := harness.StartAPIServer(t)
	ctx := harness.Context(t, 2*waitTimeout)
	cs := api.Client
	metricsAddr := dnsFreeAddr(t)
	d := harness.StartDNS(t, api, harness.DNSOptions{
		Upstreams: []string{fakeDNSUpstream(t)},
		Configure: func(c *dnsapp.Config) {
			c.PublishService, c.AdvertiseAddress, c.AdvertisePort = true, "127.0.0.1", 5353
			c.MetricsAddress = metricsAddr
		},
	})

	port := func(name string, p int32) *corev1.ServicePort {
		return &corev1.ServicePort{Name: name, Protocol: "TCP", Port: p, TargetPort: structpb.NewNumberValue(float64(p))}
	}
	web := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "10.96.0.50", Ports: []*corev1.ServicePort{port("http", 80)}}}
	if _, err := cs.Services().Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	waitDNSAnswer(t, d.Addr, "web.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.96.0.50")
	waitDNSAnswer(t, d.Addr, "_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess, "80 web.default.svc.cluster.local.")

	// A headless Service without a selector: its Endpoints are the test's.
	head := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "db"},
		Spec: &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: "None", Ports: []*corev1.ServicePort{port("sql", 5432)}}}
	if _, err := cs.Services().Create(ctx, head); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "db"}, Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: "10.244.0.5", Hostname: "db-0"}},
		Ports:     []*corev1.EndpointPort{{Name: "sql", Port: 5432, Protocol: "TCP"}},
	}}}
	created, err := cs.Endpoints().Create(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	waitDNSAnswer(t, d.Addr, "db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.244.0.5")
	waitDNSAnswer(t, d.Addr, "db-0.db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.244.0.5")

	t.Run("Endpoints updated", func(t *testing.T) {
		upd := proto.Clone(created).(*corev1.Endpoints)
		upd.Subsets[0].Addresses = append(upd.Subsets[0].Addresses, &corev1.EndpointAddress{Ip: "10.244.0.6"})
		if _, err := cs.Endpoints().Update(ctx, upd); err != nil {
			t.Fatal(err)
		}
		waitDNSAnswer(t, d.Addr, "db.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.244.0.5", "10.244.0.6")
		waitDNSAnswer(t, d.Addr, "_sql._tcp.db.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			"5432 10-244-0-6.db.default.svc.cluster.local.", "5432 db-0.db.default.svc.cluster.local.")
	})
	t.Run("Service deleted", func(t *testing.T) {
		if _, err := cs.Services().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: "web"}); err != nil {
			t.Fatal(err)
		}
		waitDNSAnswer(t, d.Addr, "web.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError)
		waitDNSAnswer(t, d.Addr, "50.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError)
	})
	t.Run("forwarded to the upstream", func(t *testing.T) {
		waitDNSAnswer(t, d.Addr, "example.com.", dns.TypeA, dns.RcodeSuccess, "192.0.2.99")
	})
	t.Run("metrics and readiness", func(t *testing.T) {
		ready := dnsHTTPGet(t, "http://"+metricsAddr+"/readyz")
		if ready.code != http.StatusOK {
			t.Fatalf("/readyz = %d %s after the informers synced", ready.code, ready.body)
		}
		m := dnsHTTPGet(t, "http://"+metricsAddr+"/metrics")
		for _, want := range []string{
			`tugboat_dns_queries_total{rcode="NOERROR",type="A"}`,
			`tugboat_dns_queries_total{rcode="NXDOMAIN",type="A"}`,
			`tugboat_dns_request_duration_seconds_bucket{type="SRV"`,
			`tugboat_dns_forward_requests_total{rcode="NOERROR"}`,
		} {
			if !strings.Contains(m.body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("kube-dns published", func(t *testing.T) {
		waitDNSAnswer(t, d.Addr, "kube-dns.kube-system.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.96.0.10")
		waitDNSPublished(ctx, t, cs)
		// Created once; the informers' events of its own writes cause
		// no further writes (what the apiserver defaults is kept).
		if n := dnsUpdates(t, d); n != 0 {
			t.Fatalf("%v Update calls after publishing a fresh Service and Endpoints, want 0", n)
		}
	})
	t.Run("kube-dns Endpoints put back", func(t *testing.T) {
		cur, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			t.Fatal(err)
		}
		cur.Subsets = nil
		if _, err := cs.Endpoints().Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
		waitDNSPublished(ctx, t, cs)
	})
	t.Run("kube-dns Endpoints shared with another instance", func(t *testing.T) {
		// Another tug-dns (another node) adds its address to the subset;
		// this one keeps it. The same write drops a label, which this
		// one puts back: once it has, its update of the Endpoints (the
		// one that would have dropped the address) is done.
		cur, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			t.Fatal(err)
		}
		cur.Subsets[0].Addresses = append(cur.Subsets[0].Addresses, &corev1.EndpointAddress{Ip: "127.0.0.9"})
		delete(cur.Metadata.Labels, "k8s-app")
		before := dnsUpdates(t, d)
		if _, err := cs.Endpoints().Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
		harness.Poll(t, waitTimeout, "kube-dns Endpoints labels put back", func() (bool, string) {
			ep, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
			if err != nil {
				return false, err.Error()
			}
			return ep.GetMetadata().GetLabels()["k8s-app"] == "kube-dns", fmt.Sprint(ep.GetMetadata().GetLabels())
		})
		ep, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			t.Fatal(err)
		}
		var ips []string
		for _, s := range ep.GetSubsets() {
			for _, a := range s.GetAddresses() {
				ips = append(ips, a.GetIp())
			}
		}
		if len(ep.GetSubsets()) != 1 || !slices.Contains(ips, "127.0.0.1") || !slices.Contains(ips, "127.0.0.9") || len(ips) != 2 {
			t.Fatalf("endpoints subsets %v, want one subset with 127.0.0.1 and 127.0.0.9", ep.GetSubsets())
		}
		// The client counts the call once it has returned: wait for it.
		harness.Poll(t, waitTimeout, "the label's Update counted", func() (bool, string) {
			n := dnsUpdates(t, d) - before
			return n >= 1, fmt.Sprint(n, " updates")
		})
		if n := dnsUpdates(t, d) - before; n != 1 {
			t.Fatalf("%v Update calls after another instance joined, want 1 (the label)", n)
		}
		// Back to this instance alone for the checks below.
		ep.Subsets[0].Addresses = slices.DeleteFunc(ep.Subsets[0].Addresses, func(a *corev1.EndpointAddress) bool { return a.GetIp() == "127.0.0.9" })
		if _, err := cs.Endpoints().Update(ctx, ep); err != nil {
			t.Fatal(err)
		}
		waitDNSPublished(ctx, t, cs)
	})
	t.Run("kube-dns Service recreated", func(t *testing.T) {
		if _, err := cs.Services().Delete(ctx, &metav1.DeleteOptions{Namespace: "kube-system", Name: "kube-dns"}); err != nil {
			t.Fatal(err)
		}
		waitDNSPublished(ctx, t, cs)
		waitDNSAnswer(t, d.Addr, "kube-dns.kube-system.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, "10.96.0.10")
	})
}

// waitDNSPublished polls until kube-system/kube-dns is as the contract says:
// clusterIP 10.96.0.10, no selector, dns 53/UDP and dns-tcp 53/TCP to
// port 5353, Endpoints 127.0.0.1:5353.
func waitDNSPublished(ctx context.Context, t *testing.T, cs interface {
	Services() corev1.ServiceServiceClient
	Endpoints() corev1.EndpointsServiceClient
}) {
	t.Helper()
	harness.Poll(t, waitTimeout, "kube-system/kube-dns published", func() (bool, string) {
		svc, err := cs.Services().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			return false, err.Error()
		}
		ps := svc.GetSpec().GetPorts()
		if svc.GetSpec().GetClusterIp() != "10.96.0.10" || len(svc.GetSpec().GetSelector()) != 0 || len(ps) != 2 ||
			ps[0].GetName() != "dns" || ps[0].GetProtocol() != "UDP" || ps[0].GetPort() != 53 || ps[0].GetTargetPort().GetNumberValue() != 5353 ||
			ps[1].GetName() != "dns-tcp" || ps[1].GetProtocol() != "TCP" || ps[1].GetPort() != 53 || ps[1].GetTargetPort().GetNumberValue() != 5353 {
			return false, fmt.Sprintf("service spec %v", svc.GetSpec())
		}
		ep, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			return false, err.Error()
		}
		ss := ep.GetSubsets()
		if len(ss) != 1 || len(ss[0].GetAddresses()) != 1 || ss[0].GetAddresses()[0].GetIp() != "127.0.0.1" ||
			len(ss[0].GetPorts()) != 2 || ss[0].GetPorts()[0].GetPort() != 5353 || ss[0].GetPorts()[1].GetPort() != 5353 {
			return false, fmt.Sprintf("endpoints subsets %v", ss)
		}
		return true, ""
	})
}

// dnsFreeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func dnsFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type dnsHTTPResult struct {
	code int
	body string
}

func dnsHTTPGet(t *testing.T, url string) dnsHTTPResult {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return dnsHTTPResult{resp.StatusCode, string(b)}
}

// dnsUpdates counts the Update RPCs the DNS server has made.
func dnsUpdates(t *testing.T, d *harness.DNS) float64 {
	t.Helper()
	families, err := d.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range families {
		if mf.GetName() != "tugboat_dns_grpc_client_handled_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "grpc_method" && lp.GetValue() == "Update" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
