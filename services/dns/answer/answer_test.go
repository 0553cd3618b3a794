package answer

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fixture"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
)

func testZone() *zone.Index {
	x := zone.NewIndex("cluster.local")
	x.SetService(fixture.Service("default", "web", "10.96.0.20", fixture.Port("http", "TCP", 80), fixture.Port("dns", "UDP", 53), fixture.Port("", "TCP", 81)))
	x.SetService(fixture.Service("default", "service-disc", "10.96.0.30"))
	x.SetService(fixture.Service("default", "pending", ""))
	x.SetService(fixture.Service("default", "head", zone.Headless, fixture.Port("http", "TCP", 80)))
	x.SetEndpoints(fixture.Endpoints("default", "head",
		[]*corev1.EndpointAddress{fixture.Addr("10.244.0.5", "web-0"), fixture.Addr("10.244.0.6", "")},
		[]*corev1.EndpointAddress{fixture.Addr("10.244.0.7", "")},
		fixture.EPort("http", "TCP", 8080)))
	x.SetService(fixture.ExternalName("default", "ext", "Example.COM"))
	return x
}

var testConfig = Config{
	Domain:  "cluster.local.",
	TTL:     5,
	Reverse: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")},
	Serial:  42,
}

func query(name string, t uint16) *dns.Msg {
	m := new(dns.Msg)
	m.Id = 7
	m.RecursionDesired = true
	m.Question = []dns.Question{{Name: name, Qtype: t, Qclass: dns.ClassINET}}
	return m
}

// rrs renders a section as "type data" strings, owners and TTLs checked
// separately.
func rrs(section []dns.RR) []string {
	var out []string
	for _, rr := range section {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(f[3:], " "))
	}
	slices.Sort(out)
	return out
}

func TestAnswer(t *testing.T) {
	const web = "web.default.svc.cluster.local."
	for _, tc := range []struct {
		name    string
		req     *dns.Msg
		rcode   int
		answer  []string
		extra   []string
		soa     bool // SOA in the authority section
		forward bool
	}{
		{name: "service A", req: query(web, dns.TypeA), answer: []string{"A 10.96.0.20"}},
		{name: "case-insensitive", req: query("WEB.Default.SVC.Cluster.Local.", dns.TypeA), answer: []string{"A 10.96.0.20"}},
		{name: "no trailing dot", req: query("web.default.svc.cluster.local", dns.TypeA), answer: []string{"A 10.96.0.20"}},
		{name: "service AAAA is NODATA", req: query(web, dns.TypeAAAA), soa: true},
		{name: "service MX is NODATA", req: query(web, dns.TypeMX), soa: true},
		{name: "service without a clusterIP yet is NODATA", req: query("pending.default.svc.cluster.local.", dns.TypeA), soa: true},
		{name: "missing service NXDOMAIN", req: query("nope.default.svc.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "missing namespace NXDOMAIN", req: query("web.nope.svc.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "namespace is an empty non-terminal", req: query("default.svc.cluster.local.", dns.TypeA), soa: true},
		{name: "svc is an empty non-terminal", req: query("svc.cluster.local.", dns.TypeA), soa: true},
		{name: "apex SOA", req: query("cluster.local.", dns.TypeSOA),
			answer: []string{"SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"}},
		{name: "apex A is NODATA", req: query("cluster.local.", dns.TypeA), soa: true},
		{name: "search path: the name itself", req: query("service-disc.default.svc.cluster.local.", dns.TypeA), answer: []string{"A 10.96.0.30"}},
		{name: "search path: external name under the namespace", req: query("example.com.default.svc.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "search path: twice expanded", req: query("service-disc.default.svc.cluster.local.default.svc.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "headless A: ready addresses only", req: query("head.default.svc.cluster.local.", dns.TypeA), answer: []string{"A 10.244.0.5", "A 10.244.0.6"}},
		{name: "headless hostname", req: query("web-0.head.default.svc.cluster.local.", dns.TypeA), answer: []string{"A 10.244.0.5"}},
		{name: "headless dashed address", req: query("10-244-0-6.head.default.svc.cluster.local.", dns.TypeA), answer: []string{"A 10.244.0.6"}},
		{name: "headless not-ready address absent", req: query("10-244-0-7.head.default.svc.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "SRV of a named TCP port", req: query("_http._tcp."+web, dns.TypeSRV),
			answer: []string{"SRV 0 100 80 " + web}, extra: []string{"A 10.96.0.20"}},
		{name: "SRV of a named UDP port", req: query("_dns._udp."+web, dns.TypeSRV), answer: []string{"SRV 0 100 53 " + web}, extra: []string{"A 10.96.0.20"}},
		{name: "SRV of a port with the wrong protocol", req: query("_dns._tcp."+web, dns.TypeSRV), rcode: dns.RcodeNameError, soa: true},
		{name: "SRV name asked for A is NODATA", req: query("_http._tcp."+web, dns.TypeA), soa: true},
		{name: "headless SRV per endpoint", req: query("_http._tcp.head.default.svc.cluster.local.", dns.TypeSRV),
			answer: []string{"SRV 0 50 8080 10-244-0-6.head.default.svc.cluster.local.", "SRV 0 50 8080 web-0.head.default.svc.cluster.local."},
			extra:  []string{"A 10.244.0.5", "A 10.244.0.6"}},
		{name: "ExternalName CNAME for A", req: query("ext.default.svc.cluster.local.", dns.TypeA), answer: []string{"CNAME example.com."}},
		{name: "ExternalName CNAME for CNAME", req: query("ext.default.svc.cluster.local.", dns.TypeCNAME), answer: []string{"CNAME example.com."}},
		{name: "PTR of a ClusterIP", req: query("20.0.96.10.in-addr.arpa.", dns.TypePTR), answer: []string{"PTR " + web}},
		{name: "PTR of an unused ClusterIP", req: query("99.0.96.10.in-addr.arpa.", dns.TypePTR), rcode: dns.RcodeNameError, soa: true},
		{name: "PTR outside the service CIDR forwarded", req: query("1.1.168.192.in-addr.arpa.", dns.TypePTR), forward: true},
		{name: "partial reverse name forwarded", req: query("96.10.in-addr.arpa.", dns.TypePTR), forward: true},
		{name: "pod A", req: query("10-244-1-7.default.pod.cluster.local.", dns.TypeA), answer: []string{"A 10.244.1.7"}},
		{name: "pod AAAA is NODATA", req: query("10-244-1-7.default.pod.cluster.local.", dns.TypeAAAA), soa: true},
		{name: "pod name not an address", req: query("web.default.pod.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "pod name too deep", req: query("10-244-1-7.a.default.pod.cluster.local.", dns.TypeA), rcode: dns.RcodeNameError, soa: true},
		{name: "outside the domain forwarded", req: query("example.com.", dns.TypeA), forward: true},
		{name: "suffix that is not the domain forwarded", req: query("evilcluster.local.", dns.TypeA), forward: true},
		{name: "NOTIFY is NOTIMP", req: func() *dns.Msg { m := query(web, dns.TypeA); m.Opcode = dns.OpcodeNotify; return m }(), rcode: dns.RcodeNotImplemented},
		{name: "UPDATE is NOTIMP", req: func() *dns.Msg { m := query(web, dns.TypeA); m.Opcode = dns.OpcodeUpdate; return m }(), rcode: dns.RcodeNotImplemented},
		{name: "no question FORMERR", req: &dns.Msg{MsgHdr: dns.MsgHdr{Id: 7}}, rcode: dns.RcodeFormatError},
		{name: "two questions FORMERR", req: func() *dns.Msg {
			m := query(web, dns.TypeA)
			m.Question = append(m.Question, m.Question[0])
			return m
		}(), rcode: dns.RcodeFormatError},
		{name: "a response FORMERR", req: func() *dns.Msg { m := query(web, dns.TypeA); m.Response = true; return m }(), rcode: dns.RcodeFormatError},
		{name: "AXFR refused", req: query("cluster.local.", dns.TypeAXFR), rcode: dns.RcodeRefused},
		{name: "IXFR refused", req: query("cluster.local.", dns.TypeIXFR), rcode: dns.RcodeRefused},
		{name: "AXFR of a Service refused", req: query(web, dns.TypeAXFR), rcode: dns.RcodeRefused},
		{name: "AXFR of a missing name refused", req: query("nope.default.svc.cluster.local.", dns.TypeAXFR), rcode: dns.RcodeRefused},
		{name: "reverse AXFR refused", req: query("20.0.96.10.in-addr.arpa.", dns.TypeAXFR), rcode: dns.RcodeRefused},
		{name: "MAILA is NOTIMP", req: query(web, dns.TypeMAILA), rcode: dns.RcodeNotImplemented},
		{name: "MAILB is NOTIMP", req: query(web, dns.TypeMAILB), rcode: dns.RcodeNotImplemented},
		{name: "CHAOS class refused", req: func() *dns.Msg { m := query(web, dns.TypeA); m.Question[0].Qclass = dns.ClassCHAOS; return m }(), rcode: dns.RcodeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, fwd := Answer(testZone(), testConfig, tc.req)
			if fwd != tc.forward {
				t.Fatalf("forward = %v, want %v", fwd, tc.forward)
			}
			if fwd {
				if resp != nil {
					t.Fatalf("a forwarded query has a response %v", resp)
				}
				return
			}
			if resp.Id != tc.req.Id || !resp.Response {
				t.Fatalf("id %d response %v: not a reply to id %d", resp.Id, resp.Response, tc.req.Id)
			}
			if resp.Rcode != tc.rcode {
				t.Fatalf("rcode = %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
			}
			if got := rrs(resp.Answer); !slices.Equal(got, tc.answer) {
				t.Fatalf("answer = %q, want %q", got, tc.answer)
			}
			if got := rrs(resp.Extra); !slices.Equal(got, tc.extra) {
				t.Fatalf("extra = %q, want %q", got, tc.extra)
			}
			for _, rr := range resp.Answer {
				if rr.Header().Ttl != 5 || rr.Header().Name != tc.req.Question[0].Name && rr.Header().Rrtype != dns.TypeSOA {
					t.Fatalf("answer %v: want owner %q as asked and TTL 5", rr, tc.req.Question[0].Name)
				}
			}
			hasSOA := len(resp.Ns) == 1 && resp.Ns[0].Header().Rrtype == dns.TypeSOA && resp.Ns[0].Header().Ttl == 5
			if hasSOA != tc.soa || (!tc.soa && len(resp.Ns) > 0) {
				t.Fatalf("authority = %v, want SOA: %v", resp.Ns, tc.soa)
			}
			if tc.rcode == dns.RcodeSuccess || tc.rcode == dns.RcodeNameError {
				if !resp.Authoritative {
					t.Fatal("an answer from the cluster zone is not authoritative")
				}
			}
		})
	}
}

func TestReverseZone(t *testing.T) {
	for _, tc := range []struct{ cidr, want string }{
		{"10.96.0.0/12", "10.in-addr.arpa."},
		{"10.96.0.0/16", "96.10.in-addr.arpa."},
		{"192.168.7.0/24", "7.168.192.in-addr.arpa."},
	} {
		t.Run(tc.cidr, func(t *testing.T) {
			if got := ReverseZone(netip.MustParsePrefix(tc.cidr)); got != tc.want {
				t.Fatalf("ReverseZone = %q, want %q", got, tc.want)
			}
		})
	}
}
