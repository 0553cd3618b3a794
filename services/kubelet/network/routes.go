package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
)

// Guard is a set of blackhole routes this process installed. Each guards one
// cluster CIDR (10.244.0.0/16 for pods, 10.96.0.0/12 for Services): a packet
// for a cluster address that no more specific route claims (the node's own
// pod bridge, the proxy's rules) is dropped here instead of following the
// default route off the machine. Never wider than the cluster CIDRs: the
// host's own resolver may live elsewhere in 10.0.0.0/8.
type Guard struct {
	added []netip.Prefix
}

// InstallGuard adds a blackhole route for each prefix that has none yet and
// remembers the ones it added.
func InstallGuard(prefixes ...netip.Prefix) (*Guard, error) {
	g := &Guard{}
	for _, p := range prefixes {
		r := blackhole(p)
		err := netlink.RouteAdd(r)
		switch {
		case err == nil:
			g.added = append(g.added, p)
		case errors.Is(err, syscall.EEXIST):
			// Another kubelet, or an earlier run, guards it already.
		default:
			_ = g.Remove()
			return nil, fmt.Errorf("blackhole route %s: %w", p, err)
		}
	}
	return g, nil
}

// Remove deletes the routes this guard added.
func (g *Guard) Remove() error {
	var errs []error
	for _, p := range g.added {
		if err := netlink.RouteDel(blackhole(p)); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("remove blackhole route %s: %w", p, err))
		}
	}
	g.added = nil
	return errors.Join(errs...)
}

// Added lists the prefixes this guard installed.
func (g *Guard) Added() []netip.Prefix { return append([]netip.Prefix(nil), g.added...) }

func blackhole(p netip.Prefix) *netlink.Route {
	p = p.Masked()
	return &netlink.Route{
		Dst:  &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		Type: syscall.RTN_BLACKHOLE,
	}
}

// RemoveBridge deletes the node's pod bridge if it exists (for --cleanup and
// tests: the CNI bridge plugin creates it on the first sandbox).
func RemoveBridge() error {
	l, err := netlink.LinkByName(Bridge)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("find bridge %s: %w", Bridge, err)
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete bridge %s: %w", Bridge, err)
	}
	return nil
}

// RemoveGuard deletes the blackhole routes for prefixes, whoever added them
// (for --cleanup).
func RemoveGuard(prefixes ...netip.Prefix) error {
	g := &Guard{added: prefixes}
	return g.Remove()
}
