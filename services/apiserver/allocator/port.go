package allocator

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// PortsKey is the etcd key of the node-port bitmap.
const PortsKey = "/registry/ranges/servicenodeports"

// PortRange is an inclusive range of ports, "30000-32767".
type PortRange struct{ Base, Last int }

// ParsePortRange parses "30000-32767" (or one port, "30000").
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	b, err1 := strconv.Atoi(strings.TrimSpace(lo))
	l, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || b < 1 || l > 65535 || b > l {
		return PortRange{}, fmt.Errorf("node port range %q: want <first>-<last> within 1-65535", s)
	}
	return PortRange{Base: b, Last: l}, nil
}

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Base, r.Last) }

// Contains says whether port is in the range.
func (r PortRange) Contains(port int) bool { return port >= r.Base && port <= r.Last }

// Ports allocates node ports of a range.
type Ports struct {
	rng    PortRange
	bitmap *Bitmap
}

// NewPorts returns the allocator of the range's ports; m may be nil.
func NewPorts(store *storage.Store, rng PortRange, m *Metrics) *Ports {
	return &Ports{rng: rng, bitmap: NewBitmap(store, PortsKey, rng.String(), rng.Last-rng.Base+1, "servicenodeports", m)}
}

// Range is the port range.
func (a *Ports) Range() PortRange { return a.rng }

// Allocate takes port: ErrAllocated when it is taken, an error when it is
// outside the range.
func (a *Ports) Allocate(ctx context.Context, port int) error {
	if !a.rng.Contains(port) {
		return fmt.Errorf("port %d is not in the range %s", port, a.rng)
	}
	return a.bitmap.Allocate(ctx, port-a.rng.Base)
}

// AllocateNext takes a free port; ErrFull when none is left.
func (a *Ports) AllocateNext(ctx context.Context) (int, error) {
	i, err := a.bitmap.AllocateNext(ctx, 0, 0)
	return a.rng.Base + i, err
}

// Release frees the ports; ones outside the range are ignored.
func (a *Ports) Release(ctx context.Context, ports ...int) error {
	var offsets []int
	for _, p := range ports {
		if a.rng.Contains(p) {
			offsets = append(offsets, p-a.rng.Base)
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	return a.bitmap.Release(ctx, offsets...)
}

// Used returns the allocated ports.
func (a *Ports) Used(ctx context.Context) ([]int, error) {
	offsets, err := a.bitmap.Used(ctx)
	for k := range offsets {
		offsets[k] += a.rng.Base
	}
	return offsets, err
}
