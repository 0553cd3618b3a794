// Package zone holds the cluster's DNS records in memory: an index from
// lower-case owner names to the records of the Services and Endpoints
// that own them, rebuilt for one Service at a time as informer events
// arrive, so that answering a query never lists anything.
package zone

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// SRV is one service record's data; the owner name is the index key.
type SRV struct {
	Port   uint16
	Target string // fully qualified, lower case
}

// RRSet is every record one owner name holds for one Service.
type RRSet struct {
	Addrs []netip.Addr // A (IPv4) and AAAA (IPv6)
	CNAME string       // fully qualified; set alone, for ExternalName Services
	SRV   []SRV
	PTR   []string // fully qualified targets, for reverse names
}

func (r *RRSet) empty() bool {
	return len(r.Addrs) == 0 && r.CNAME == "" && len(r.SRV) == 0 && len(r.PTR) == 0
}

// Headless is the clusterIP of a Service without a virtual IP.
const Headless = "None"

// Records returns the names and records one Service and its Endpoints
// (nil when there are none) contribute under domain (e.g.
// "cluster.local."). Every name is lower case and fully qualified. The
// Service's own name is always present, so that a Service without
// addresses answers NODATA rather than NXDOMAIN.
func Records(svc *corev1.Service, ep *corev1.Endpoints, domain string) map[string]*RRSet {
	ns, name := svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName()
	base := strings.ToLower(fmt.Sprintf("%s.%s.svc.%s", name, ns, domain))
	out := map[string]*RRSet{base: {}}
	set := func(n string) *RRSet {
		if r, ok := out[n]; ok {
			return r
		}
		r := &RRSet{}
		out[n] = r
		return r
	}
	spec := svc.GetSpec()
	if spec.GetType() == "ExternalName" {
		if t := strings.TrimSpace(spec.GetExternalName()); t != "" {
			out[base].CNAME = strings.ToLower(fqdn(t))
		}
		return out
	}
	if spec.GetClusterIp() != Headless {
		for _, s := range clusterIPs(spec) {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			out[base].Addrs = append(out[base].Addrs, a)
			rev := Reverse(a)
			set(rev).PTR = append(set(rev).PTR, base)
		}
		for _, p := range spec.GetPorts() {
			if p.GetName() == "" {
				continue
			}
			n := srvName(p.GetName(), p.GetProtocol(), base)
			set(n).SRV = append(set(n).SRV, SRV{Port: uint16(p.GetPort()), Target: base})
		}
		return out
	}
	// Headless: the endpoints' addresses, each also under its own name.
	for _, sub := range ep.GetSubsets() {
		addrs := sub.GetAddresses()
		if spec.GetPublishNotReadyAddresses() {
			addrs = append(addrs[:len(addrs):len(addrs)], sub.GetNotReadyAddresses()...)
		}
		for _, ea := range addrs {
			a, err := netip.ParseAddr(ea.GetIp())
			if err != nil {
				continue
			}
			out[base].Addrs = appendUnique(out[base].Addrs, a)
			host := strings.ToLower(ea.GetHostname())
			if host == "" {
				host = dashed(a)
			}
			own := host + "." + base
			set(own).Addrs = appendUnique(set(own).Addrs, a)
			for _, p := range sub.GetPorts() {
				if p.GetName() == "" {
					continue
				}
				n := srvName(p.GetName(), p.GetProtocol(), base)
				set(n).SRV = append(set(n).SRV, SRV{Port: uint16(p.GetPort()), Target: own})
			}
		}
	}
	return out
}

func clusterIPs(spec *corev1.ServiceSpec) []string {
	if len(spec.GetClusterIps()) > 0 {
		return spec.GetClusterIps()
	}
	if spec.GetClusterIp() != "" {
		return []string{spec.GetClusterIp()}
	}
	return nil
}

func srvName(port, proto, base string) string {
	if proto == "" {
		proto = "TCP"
	}
	return strings.ToLower("_" + port + "._" + proto + "." + base)
}

func appendUnique(s []netip.Addr, a netip.Addr) []netip.Addr {
	for _, x := range s {
		if x == a {
			return s
		}
	}
	return append(s, a)
}

// dashed writes an address as one DNS label: 10.244.0.5 becomes
// 10-244-0-5, an IPv6 address has its colons replaced likewise.
func dashed(a netip.Addr) string {
	return strings.NewReplacer(".", "-", ":", "-").Replace(a.String())
}

// Reverse returns the in-addr.arpa (or ip6.arpa) name of a.
func Reverse(a netip.Addr) string {
	var b strings.Builder
	if a.Is4() {
		v := a.As4()
		fmt.Fprintf(&b, "%d.%d.%d.%d.in-addr.arpa.", v[3], v[2], v[1], v[0])
		return b.String()
	}
	v := a.As16()
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[v[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[v[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

func fqdn(s string) string {
	if strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}
