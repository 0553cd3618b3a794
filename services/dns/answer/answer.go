// Package answer turns one DNS query into its response from the cluster's
// records: a pure function of the query and a zone.Index, with no I/O, so
// that every record kind and error can be tested table by table. Names
// outside the cluster's zones are handed back to the caller to forward.
package answer

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
)

// Zone is what answering reads: the records at a name and whether the
// name exists. *zone.Index implements it.
type Zone interface {
	Lookup(name string) (*zone.RRSet, bool)
}

// Config describes the zones served.
type Config struct {
	// Domain is the cluster domain, lower case and fully qualified
	// ("cluster.local.").
	Domain string
	// TTL is set on every record answered, the SOA included.
	TTL uint32
	// Reverse are the address ranges (the Service CIDR) whose
	// in-addr.arpa names are answered rather than forwarded.
	Reverse []netip.Prefix
	// Serial is the SOA serial.
	Serial uint32
}

// Answer returns the response to req and false, or nil and true when the
// question's name lies outside the served zones and should be forwarded.
func Answer(z Zone, cfg Config, req *dns.Msg) (*dns.Msg, bool) {
	resp := new(dns.Msg)
	switch {
	case req.Response:
		return resp.SetRcodeFormatError(req), false
	case req.Opcode != dns.OpcodeQuery:
		resp.SetRcode(req, dns.RcodeNotImplemented)
		return resp, false
	case len(req.Question) != 1:
		return resp.SetRcodeFormatError(req), false
	}
	q := req.Question[0]
	name := strings.ToLower(dns.Fqdn(q.Name))
	if _, ok := dns.IsDomainName(name); !ok {
		return resp.SetRcodeFormatError(req), false
	}
	apex, inZone := cfg.zoneOf(name)
	if !inZone {
		return nil, true
	}
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		resp.Rcode = dns.RcodeRefused
		return resp, false
	}
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		// No zone transfer is offered: refused, as a server that does
		// not allow the transfer answers (RFC 5936 section 2.2.1).
		resp.Rcode = dns.RcodeRefused
		return resp, false
	case dns.TypeMAILA, dns.TypeMAILB:
		// Obsolete query types (RFC 1035, RFC 2505) not implemented.
		resp.Rcode = dns.RcodeNotImplemented
		return resp, false
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: cfg.TTL}
	}
	rrs, exists := cfg.lookup(z, name, apex)
	switch {
	case !exists:
		resp.Rcode = dns.RcodeNameError
	case name == apex && (q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY):
		resp.Answer = append(resp.Answer, cfg.soa(apex))
	case rrs != nil && rrs.CNAME != "":
		h := hdr(dns.TypeCNAME)
		resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: h, Target: rrs.CNAME})
	case rrs != nil:
		resp.Answer = records(rrs, q.Qtype, hdr)
		if q.Qtype == dns.TypeSRV || q.Qtype == dns.TypeANY {
			resp.Extra = cfg.glue(z, rrs.SRV)
		}
	}
	if len(resp.Answer) == 0 {
		resp.Ns = []dns.RR{cfg.soa(apex)}
	}
	return resp, false
}

// records returns rrs' records of type qtype (all of them for ANY).
func records(rrs *zone.RRSet, qtype uint16, hdr func(uint16) dns.RR_Header) []dns.RR {
	var out []dns.RR
	any := qtype == dns.TypeANY
	for _, a := range rrs.Addrs {
		switch {
		case a.Is4() && (any || qtype == dns.TypeA):
			out = append(out, &dns.A{Hdr: hdr(dns.TypeA), A: a.AsSlice()})
		case a.Is6() && (any || qtype == dns.TypeAAAA):
			out = append(out, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: a.AsSlice()})
		}
	}
	if any || qtype == dns.TypeSRV {
		for _, s := range rrs.SRV {
			out = append(out, &dns.SRV{Hdr: hdr(dns.TypeSRV), Priority: 0, Weight: 100 / uint16(len(rrs.SRV)),
				Port: s.Port, Target: s.Target})
		}
	}
	if any || qtype == dns.TypePTR {
		for _, p := range rrs.PTR {
			out = append(out, &dns.PTR{Hdr: hdr(dns.TypePTR), Ptr: p})
		}
	}
	return out
}

// glue returns the addresses of SRV targets for the additional section.
func (c Config) glue(z Zone, srvs []zone.SRV) []dns.RR {
	var out []dns.RR
	seen := map[string]bool{}
	for _, s := range srvs {
		if seen[s.Target] {
			continue
		}
		seen[s.Target] = true
		if rrs, ok := z.Lookup(s.Target); ok && rrs != nil {
			out = append(out, records(rrs, dns.TypeANY, func(t uint16) dns.RR_Header {
				return dns.RR_Header{Name: s.Target, Rrtype: t, Class: dns.ClassINET, Ttl: c.TTL}
			})...)
		}
	}
	return out
}

// zoneOf returns the apex of the served zone holding name, if any.
func (c Config) zoneOf(name string) (string, bool) {
	if name == c.Domain || strings.HasSuffix(name, "."+c.Domain) {
		return c.Domain, true
	}
	if a, ok := parseReverse(name); ok {
		for _, p := range c.Reverse {
			if p.Contains(a) {
				return ReverseZone(p), true
			}
		}
	}
	return "", false
}

// lookup finds name in the index, and answers pod names
// (<a-b-c-d>.<ns>.pod.<domain>) from the name itself.
func (c Config) lookup(z Zone, name, apex string) (*zone.RRSet, bool) {
	if name == apex {
		return nil, true
	}
	pods := "pod." + c.Domain
	if name == pods {
		return nil, true
	}
	if rest, ok := strings.CutSuffix(name, "."+pods); ok {
		label, ns, found := strings.Cut(rest, ".")
		if !found {
			return nil, true // <ns>.pod.<domain>
		}
		if strings.Contains(ns, ".") {
			return nil, false
		}
		a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", "."))
		if err != nil || !a.Is4() {
			if a, err = netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err != nil || !a.Is6() {
				return nil, false
			}
		}
		return &zone.RRSet{Addrs: []netip.Addr{a}}, true
	}
	return z.Lookup(name)
}

func (c Config) soa(apex string) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: c.TTL},
		Ns:      "ns.dns." + c.Domain,
		Mbox:    "hostmaster." + c.Domain,
		Serial:  c.Serial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  c.TTL,
	}
}

// parseReverse reads a full IPv4 in-addr.arpa name.
func parseReverse(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 8)
		if err != nil || (len(p) > 1 && p[0] == '0') {
			return netip.Addr{}, false
		}
		b[3-i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// ReverseZone returns the in-addr.arpa zone holding an IPv4 prefix: its
// address cut to whole octets (10.96.0.0/12 is in 10.in-addr.arpa.).
func ReverseZone(p netip.Prefix) string {
	v := p.Masked().Addr().As4()
	n := p.Bits() / 8
	labels := make([]string, 0, n+2)
	for i := n - 1; i >= 0; i-- {
		labels = append(labels, strconv.Itoa(int(v[i])))
	}
	return strings.Join(append(labels, "in-addr", "arpa"), ".") + "."
}
