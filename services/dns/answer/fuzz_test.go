package answer

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer: whatever message unpacks, Answer returns a response that
// packs, or forwards without one; it never panics. `go test` runs the
// seeds; `go test -fuzz FuzzAnswer ./services/dns/answer/` explores.
func FuzzAnswer(f *testing.F) {
	for _, q := range []*dns.Msg{
		query("web.default.svc.cluster.local.", dns.TypeA),
		query("_http._tcp.head.default.svc.cluster.local.", dns.TypeSRV),
		query("20.0.96.10.in-addr.arpa.", dns.TypePTR),
		query("10-244-1-7.default.pod.cluster.local.", dns.TypeAAAA),
		query("ext.default.svc.cluster.local.", dns.TypeANY),
		query("example.com.", dns.TypeA),
	} {
		b, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	z := testZone()
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if req.Unpack(b) != nil {
			return
		}
		resp, fwd := Answer(z, testConfig, req)
		if fwd {
			if resp != nil || len(req.Question) != 1 {
				t.Fatalf("forwarded with response %v, %d questions", resp, len(req.Question))
			}
			return
		}
		if resp == nil {
			t.Fatal("no response")
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("response %v does not pack: %v", resp, err)
		}
	})
}
