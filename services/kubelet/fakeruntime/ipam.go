package fakeruntime

import (
	"fmt"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ipam hands out sandbox IPs from a prefix the way the host-local CNI plugin
// does: sequentially from the last one given, skipping those in use. The
// addresses are only strings for the kubelet; nothing is routed.
type ipam struct {
	prefix      netip.Prefix
	first, last netip.Addr
	next        netip.Addr
	used        map[netip.Addr]struct{}
}

func newIPAM(cidr string) (*ipam, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("fakeruntime: pod CIDR %q: %w", cidr, err)
	}
	p = p.Masked()
	first := p.Addr().Next().Next() // skip the network address and the gateway
	last := lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev() // skip broadcast
	}
	if !first.IsValid() || !p.Contains(first) || last.Less(first) {
		return nil, fmt.Errorf("fakeruntime: pod CIDR %q has no address to assign", cidr)
	}
	return &ipam{prefix: p, first: first, last: last, next: first, used: make(map[netip.Addr]struct{})}, nil
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// allocate returns a free address. At most len(used)+1 candidates are
// looked at: among that many distinct addresses one is free unless the range
// is full.
func (m *ipam) allocate() (netip.Addr, error) {
	a := m.next
	for range len(m.used) + 1 {
		if !a.IsValid() || m.last.Less(a) {
			a = m.first
		}
		if _, taken := m.used[a]; !taken {
			m.used[a] = struct{}{}
			m.next = a.Next()
			return a, nil
		}
		a = a.Next()
	}
	return netip.Addr{}, status.Errorf(codes.ResourceExhausted, "no free IP address left in pod CIDR %s", m.prefix)
}

func (m *ipam) release(a netip.Addr) {
	delete(m.used, a)
}
