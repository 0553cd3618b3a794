package server

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/tugboat-sh/tugboat/services/dns/internal/fake"
)

// TestUnsupportedTypes: zone transfers are refused and the obsolete
// MAILA/MAILB types are not implemented, over both transports.
func TestUnsupportedTypes(t *testing.T) {
	addr, _, _ := start(t, fake.Silent(t))
	for _, tc := range []struct {
		qtype uint16
		rcode int
	}{
		{dns.TypeAXFR, dns.RcodeRefused},
		{dns.TypeIXFR, dns.RcodeRefused},
		{dns.TypeMAILA, dns.RcodeNotImplemented},
		{dns.TypeMAILB, dns.RcodeNotImplemented},
	} {
		for _, net := range []string{"udp", "tcp"} {
			t.Run(dns.TypeToString[tc.qtype]+"/"+net, func(t *testing.T) {
				resp := exchange(t, net, addr, new(dns.Msg).SetQuestion("cluster.local.", tc.qtype))
				if resp.Rcode != tc.rcode || len(resp.Answer) != 0 {
					t.Fatalf("rcode %s, %d answers; want %s and none", dns.RcodeToString[resp.Rcode], len(resp.Answer), dns.RcodeToString[tc.rcode])
				}
			})
		}
	}
}
