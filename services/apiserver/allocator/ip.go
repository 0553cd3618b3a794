package allocator

import (
	"context"
	"fmt"
	"math/big"
	"net/netip"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// maxIPs bounds an IP bitmap (a /12 of IPv4): larger ranges, IPv6 ones in
// practice, use only their first maxIPs addresses.
const maxIPs = 1 << 20

// IPs allocates addresses of a CIDR. Offset 0 is the address after the
// network address (10.96.0.1 in 10.96.0.0/12), reserved for the
// `kubernetes` Service: AllocateNext never hands it out, and takes from the
// first addresses (the static band) only when the rest are used. The network and
// (IPv4) broadcast addresses are never used.
type IPs struct {
	prefix netip.Prefix
	bitmap *Bitmap
}

// IPsKey is the etcd key of the cluster IP bitmap.
const IPsKey = "/registry/ranges/serviceips"

// NewIPs returns the allocator of the CIDR's addresses; m may be nil.
func NewIPs(store *storage.Store, cidr string, m *Metrics) (*IPs, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("service cluster IP range %q: %w", cidr, err)
	}
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	size := maxIPs
	if hostBits < 21 {
		size = 1<<hostBits - 1 // without the network address
		if p.Addr().Is4() {
			size-- // nor the broadcast address
		}
	}
	if size < 2 {
		return nil, fmt.Errorf("service cluster IP range %s is too small: it needs at least two usable addresses", p)
	}
	return &IPs{prefix: p, bitmap: NewBitmap(store, IPsKey, p.String(), size, "serviceips", m)}, nil
}

// Range is the CIDR.
func (a *IPs) Range() netip.Prefix { return a.prefix }

// First is the first usable address: the `kubernetes` Service's.
func (a *IPs) First() netip.Addr { return a.prefix.Addr().Next() }

// offset maps an address to its bitmap offset; false when it is outside the
// usable range.
func (a *IPs) offset(ip netip.Addr) (int, bool) {
	if !a.prefix.Contains(ip) {
		return 0, false
	}
	d := new(big.Int).Sub(new(big.Int).SetBytes(ip.AsSlice()), new(big.Int).SetBytes(a.prefix.Addr().AsSlice()))
	if !d.IsInt64() || d.Int64() < 1 || d.Int64() > int64(a.bitmap.size) {
		return 0, false
	}
	return int(d.Int64()) - 1, true
}

// addr maps an offset to its address.
func (a *IPs) addr(i int) netip.Addr {
	n := new(big.Int).Add(new(big.Int).SetBytes(a.prefix.Addr().AsSlice()), big.NewInt(int64(i)+1))
	b := make([]byte, a.prefix.Addr().BitLen()/8)
	n.FillBytes(b)
	ip, _ := netip.AddrFromSlice(b)
	return ip
}

// Contains says whether ip is a usable address of the range.
func (a *IPs) Contains(ip netip.Addr) bool {
	_, ok := a.offset(ip)
	return ok
}

// Allocate takes ip: ErrAllocated when it is taken, an error when it is
// outside the range.
func (a *IPs) Allocate(ctx context.Context, ip netip.Addr) error {
	i, ok := a.offset(ip)
	if !ok {
		return fmt.Errorf("%s is not in the range %s", ip, a.prefix)
	}
	return a.bitmap.Allocate(ctx, i)
}

// staticBand is how many addresses at the start of the range dynamic
// allocation leaves for explicit ones while others are free (Kubernetes'
// KEP-3070: size/16 within [16, 256]; none below 16 addresses), so that a
// fixed address such as the DNS Service's 10.96.0.10 is not taken by chance.
func staticBand(size int) int {
	if size < 16 {
		return 0
	}
	return min(max(size/16, 16), 256)
}

// AllocateNext takes a free address other than the first, outside the
// static band while it can; ErrFull when none is left.
func (a *IPs) AllocateNext(ctx context.Context) (netip.Addr, error) {
	i, err := a.bitmap.AllocateNext(ctx, 1, staticBand(a.bitmap.size))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.addr(i), nil
}

// Release frees the addresses; ones outside the range are ignored.
func (a *IPs) Release(ctx context.Context, ips ...netip.Addr) error {
	var offsets []int
	for _, ip := range ips {
		if i, ok := a.offset(ip); ok {
			offsets = append(offsets, i)
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	return a.bitmap.Release(ctx, offsets...)
}

// Used returns the allocated addresses.
func (a *IPs) Used(ctx context.Context) ([]netip.Addr, error) {
	offsets, err := a.bitmap.Used(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, len(offsets))
	for k, i := range offsets {
		out[k] = a.addr(i)
	}
	return out, nil
}
