// Package fake runs DNS servers on 127.0.0.1 for tests: an upstream
// resolver to forward to, never the host's real one.
package fake

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Upstream answers every A query with Addr, over UDP and TCP on one
// port of 127.0.0.1. With Truncate, UDP answers are empty and truncated,
// so that a client must retry over TCP.
type Upstream struct {
	Addr     string
	UDP, TCP atomic.Int64 // queries seen per transport
}

// StartUpstream serves until the test ends; answer is the A record given.
func StartUpstream(t testing.TB, answer string, truncate bool) *Upstream {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &Upstream{Addr: pc.LocalAddr().String()}
	handler := func(udp bool) dns.HandlerFunc {
		return func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg).SetReply(req)
			if udp {
				u.UDP.Add(1)
			} else {
				u.TCP.Add(1)
			}
			if udp && truncate {
				m.Truncated = true
			} else if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeA {
				rr, _ := dns.NewRR(req.Question[0].Name + " 60 IN A " + answer)
				m.Answer = append(m.Answer, rr)
			}
			_ = w.WriteMsg(m)
		}
	}
	udp := &dns.Server{PacketConn: pc, Handler: handler(true)}
	tcp := &dns.Server{Listener: l, Handler: handler(false)}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() { _ = pc.Close(); _ = l.Close() })
	return u
}

// Silent returns a UDP address on 127.0.0.1 that reads queries and never
// answers them (nor accepts TCP).
func Silent(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr().String()
}
