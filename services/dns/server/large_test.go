package server

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fake"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fixture"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
)

// TestLargeHeadlessOverTCP: a headless Service whose answer is larger
// than a DNS message (64 KiB) uncompressed comes back whole over TCP,
// compressed.
func TestLargeHeadlessOverTCP(t *testing.T) {
	addr, h, _ := start(t, fake.Silent(t))
	const name = "a-rather-long-headless-service-name.default.svc.cluster.local."
	const n = 1000
	var addrs []*corev1.EndpointAddress
	for i := range n {
		addrs = append(addrs, fixture.Addr(fmt.Sprintf("10.244.%d.%d", i/250, i%250+1), ""))
	}
	x := h.Zone.(*zone.Index)
	x.SetService(fixture.Service("default", "a-rather-long-headless-service-name", zone.Headless))
	x.SetEndpoints(fixture.Endpoints("default", "a-rather-long-headless-service-name", addrs, nil))

	resp := exchange(t, "tcp", addr, new(dns.Msg).SetQuestion(name, dns.TypeA))
	if resp.Rcode != dns.RcodeSuccess || resp.Truncated || len(resp.Answer) != n {
		t.Fatalf("rcode %s, truncated %v, %d answers; want NOERROR, whole, %d",
			dns.RcodeToString[resp.Rcode], resp.Truncated, len(resp.Answer), n)
	}
	// The test means something only if the answer would not fit
	// uncompressed.
	resp.Compress = false
	if l := resp.Len(); l <= dns.MaxMsgSize {
		t.Fatalf("the answer is %d bytes uncompressed; the test needs more than %d", l, dns.MaxMsgSize)
	}
}
