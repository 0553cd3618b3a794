package app

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// upstreams returns the configured upstreams or those of ResolvConf. The
// nameservers read from ResolvConf that are this server itself (one of
// its listen or advertised addresses, or the Service IP it is reached at)
// are dropped, since forwarding to them would loop; when none remain it
// fails. Upstreams given explicitly are used as they are.
func (c *Config) upstreams(log *zap.Logger) ([]string, error) {
	if len(c.Upstreams) > 0 {
		return c.Upstreams, nil
	}
	rc, err := dns.ClientConfigFromFile(c.ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("read upstreams from %s: %w", c.ResolvConf, err)
	}
	out := make([]string, 0, len(rc.Servers))
	var dropped []string
	for _, s := range rc.Servers {
		u := net.JoinHostPort(s, rc.Port)
		if why := c.self(u); why != "" {
			log.Warn("dns upstream dropped", zap.String("upstream", u), zap.String("resolvConf", c.ResolvConf), zap.String("reason", why))
			dropped = append(dropped, u+" ("+why+")")
			continue
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		if len(dropped) == 0 {
			return nil, fmt.Errorf("read upstreams from %s: no nameserver; pass --upstream", c.ResolvConf)
		}
		return nil, fmt.Errorf("read upstreams from %s: no nameserver left, forwarding to %s would loop back to this server; pass --upstream",
			c.ResolvConf, strings.Join(dropped, ", "))
	}
	return out, nil
}

// self returns why the upstream u ("ip:port") is this server, or "".
func (c *Config) self(u string) string {
	up, err := netip.ParseAddrPort(u)
	if err != nil {
		return ""
	}
	ip := up.Addr().Unmap()
	if sip, err := netip.ParseAddr(c.ServiceIP); err == nil && ip == sip.Unmap() {
		return "the cluster DNS Service IP --service-ip"
	}
	for _, l := range c.ListenAddresses {
		lp, err := netip.ParseAddrPort(l)
		if err != nil || lp.Port() != up.Port() {
			continue
		}
		if lip := lp.Addr().Unmap(); lip == ip || (lip.IsUnspecified() && ip.IsLoopback()) {
			return "a --listen address"
		}
	}
	if c.PublishService {
		addr, port := c.advertised()
		if a, err := netip.ParseAddr(addr); err == nil && a.Unmap() == ip && port == int(up.Port()) {
			return "the --advertise-address"
		}
	}
	return ""
}
