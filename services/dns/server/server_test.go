package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/dns/answer"
	"github.com/tugboat-sh/tugboat/services/dns/forward"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fake"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fixture"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
	"go.uber.org/zap"
)

// start serves a zone with a Service "web", a headless Service "many"
// with 100 endpoints, forwarding to upstream, on 127.0.0.1.
func start(t *testing.T, upstream string) (string, *Handler, *prometheus.Registry) {
	t.Helper()
	x := zone.NewIndex("cluster.local")
	x.SetService(fixture.Service("default", "web", "10.96.0.20"))
	x.SetService(fixture.Service("default", "many", zone.Headless))
	var addrs []*corev1.EndpointAddress
	for i := range 100 {
		addrs = append(addrs, fixture.Addr(fmt.Sprintf("10.244.1.%d", i+1), ""))
	}
	x.SetEndpoints(fixture.Endpoints("default", "many", addrs, nil))
	fwd, err := forward.New([]string{upstream}, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Zone: x, Forward: fwd, Metrics: m, Log: zap.NewNop(), Config: answer.Config{
		Domain: "cluster.local.", TTL: 5, Reverse: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}, Serial: 1}}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Listen(ctx, []string{"127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addrs()[0], h, reg
}

func exchange(t *testing.T, net, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", net, m.Question[0].Name, err)
	}
	return resp
}

func TestServe(t *testing.T) {
	up := fake.StartUpstream(t, "192.0.2.7", false)
	addr, h, reg := start(t, up.Addr)
	for _, tc := range []struct {
		name, net, qname string
		rcode            int
		answers          int
		truncated        bool
	}{
		{"service over UDP", "udp", "web.default.svc.cluster.local.", dns.RcodeSuccess, 1, false},
		{"service over TCP", "tcp", "web.default.svc.cluster.local.", dns.RcodeSuccess, 1, false},
		{"missing name", "udp", "nope.default.svc.cluster.local.", dns.RcodeNameError, 0, false},
		{"forwarded", "udp", "example.com.", dns.RcodeSuccess, 1, false},
		{"100 addresses truncated over UDP", "udp", "many.default.svc.cluster.local.", dns.RcodeSuccess, -1, true},
		{"100 addresses whole over TCP", "tcp", "many.default.svc.cluster.local.", dns.RcodeSuccess, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := exchange(t, tc.net, addr, new(dns.Msg).SetQuestion(tc.qname, dns.TypeA))
			if resp.Rcode != tc.rcode || resp.Truncated != tc.truncated || (tc.answers >= 0 && len(resp.Answer) != tc.answers) {
				t.Fatalf("rcode %s, truncated %v, %d answers; want %s, %v, %d",
					dns.RcodeToString[resp.Rcode], resp.Truncated, len(resp.Answer), dns.RcodeToString[tc.rcode], tc.truncated, tc.answers)
			}
		})
	}
	t.Run("EDNS0 answered with OPT, its size allowing 100 addresses", func(t *testing.T) {
		m := new(dns.Msg).SetQuestion("many.default.svc.cluster.local.", dns.TypeA).SetEdns0(4096, false)
		resp := exchange(t, "udp", addr, m)
		if resp.IsEdns0() == nil || resp.Truncated || len(resp.Answer) != 100 {
			t.Fatalf("OPT %v, truncated %v, %d answers", resp.IsEdns0(), resp.Truncated, len(resp.Answer))
		}
	})
	if got := testutil.ToFloat64(h.Metrics.queries.WithLabelValues("A", "NOERROR")); got != 6 {
		t.Fatalf("queries_total{A,NOERROR} = %v, want 6", got)
	}
	if got := testutil.ToFloat64(h.Metrics.forwards.WithLabelValues("NOERROR")); got != 1 {
		t.Fatalf("forward_requests_total{NOERROR} = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "tugboat_dns_request_duration_seconds"); err != nil || n != 1 {
		t.Fatalf("request_duration_seconds series = %d, %v; want 1 (type A)", n, err)
	}
}

func TestServeNoUpstream(t *testing.T) {
	addr, h, _ := start(t, fake.Silent(t))
	resp := exchange(t, "udp", addr, new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
	if resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("rcode = %s, want SERVFAIL", dns.RcodeToString[resp.Rcode])
	}
	if got := testutil.ToFloat64(h.Metrics.forwards.WithLabelValues("SERVFAIL")); got != 1 {
		t.Fatalf("forward_requests_total{SERVFAIL} = %v, want 1", got)
	}
}

// TestMalformed sends a truncated question: the server answers FORMERR.
func TestMalformed(t *testing.T) {
	addr, _, _ := start(t, fake.Silent(t))
	packed, err := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA).Pack()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(packed[:len(packed)-3]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a malformed query: %v", err)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if resp.Rcode != dns.RcodeFormatError {
		t.Fatalf("rcode = %s, want FORMERR", dns.RcodeToString[resp.Rcode])
	}
}

// TestRandomBytes throws random and mangled packets at the handler and at
// the sockets; the server must keep answering.
func TestRandomBytes(t *testing.T) {
	addr, h, _ := start(t, fake.Silent(t))
	h.Forward, _ = forward.New(nil, time.Millisecond) // nothing to forward to: SERVFAIL at once
	rng := rand.New(rand.NewPCG(1, 2))
	valid, _ := new(dns.Msg).SetQuestion("_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV).Pack()
	udp, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for i := range 3000 {
		var b []byte
		if i%2 == 0 {
			b = make([]byte, rng.IntN(300))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
		} else {
			b = append([]byte(nil), valid...)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] = byte(rng.UintN(256))
			}
		}
		m := new(dns.Msg)
		if m.Unpack(b) == nil {
			if resp := h.Resolve(context.Background(), m); resp == nil {
				t.Fatalf("no response to %x", b)
			} else if _, err := resp.Pack(); err != nil {
				t.Fatalf("response to %x does not pack: %v", b, err)
			}
		}
		if i%10 == 0 {
			_, _ = udp.Write(b)
		}
	}
	for _, n := range []string{"udp", "tcp"} {
		resp := exchange(t, n, addr, new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA))
		if len(resp.Answer) != 1 {
			t.Fatalf("%s answer after the noise = %v", n, resp.Answer)
		}
	}
}

// TestFreebind binds an address this host does not have (TEST-NET-1),
// as the DNS server does for the pod bridge's address before the bridge
// exists. Nothing is sent to it.
func TestFreebind(t *testing.T) {
	s, err := Listen(context.Background(), []string{"192.0.2.53:0"}, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	if err != nil {
		t.Fatalf("bind an absent address: %v", err)
	}
	s.Close()
}

func TestListenBadAddress(t *testing.T) {
	for _, a := range []string{"localhost:53", "127.0.0.1", ""} {
		t.Run(a, func(t *testing.T) {
			if _, err := Listen(context.Background(), []string{a}, nil); err == nil {
				t.Fatalf("Listen(%q) succeeded", a)
			}
		})
	}
}

// TestSecondServerRefused: a second server on a port one already serves
// fails to bind, rather than sharing the queries through SO_REUSEPORT.
func TestSecondServerRefused(t *testing.T) {
	addr, _, _ := start(t, fake.Silent(t))
	s, err := Listen(context.Background(), []string{addr}, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	if err == nil {
		s.Close()
		t.Fatalf("a second server bound %s", addr)
	}
}
