// Package allocator hands out the cluster-wide values Services hold: cluster
// IPs from the service CIDR and node ports from the node-port range. Each
// range is one bitmap under one etcd key, changed only by compare-and-swap on
// the key's revision, so concurrent apiserver requests (or apiservers) never
// hand out one value twice. As in Kubernetes, a value is allocated before the
// Service is stored and released when the store fails or the Service goes;
// Repair brings a bitmap in line with the stored Services at start.
package allocator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// Sentinel errors of a bitmap.
var (
	ErrAllocated = errors.New("allocator: already allocated")
	ErrFull      = errors.New("allocator: range is full")
	ErrChanged   = errors.New("allocator: the stored range differs from the configured one")
)

// Bitmap is a set of size offsets kept in etcd under key. The stored value
// is the range's description, a zero byte, then one bit per offset.
//
// Changes made through one Bitmap are serialised by its mutex, and start
// from the bits and revision it last wrote or read: without another writer
// a change is one compare-and-swap, with no read and no lost race against
// itself. A writer elsewhere (another apiserver) makes the swap fail; the
// bits are then read again.
type Bitmap struct {
	mu        sync.Mutex
	cached    []byte // bits at cachedRev; nil: read before the next change
	cachedRev int64

	store   *storage.Store
	key     string
	spec    string
	size    int
	name    string // the metrics' range label
	metrics *Metrics
}

// NewBitmap returns the bitmap of size offsets under key; spec describes the
// range ("10.96.0.0/12") and is stored with the bits. name labels its
// metrics; m may be nil.
func NewBitmap(store *storage.Store, key, spec string, size int, name string, m *Metrics) *Bitmap {
	return &Bitmap{store: store, key: key, spec: spec, size: size, name: name, metrics: m}
}

// Size is how many offsets the bitmap holds.
func (b *Bitmap) Size() int { return b.size }

// resource labels the storage metrics.
const resource = "rangeallocations"

// load reads the bits and their revision; a missing key is an empty bitmap
// at revision 0.
func (b *Bitmap) load(ctx context.Context) ([]byte, int64, error) {
	kv, err := b.store.Get(ctx, resource, b.key, false)
	if errors.Is(err, storage.ErrNotFound) {
		return make([]byte, (b.size+7)/8), 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	spec, bits, ok := bytes.Cut(kv.Value, []byte{0})
	if !ok || string(spec) != b.spec || len(bits) != (b.size+7)/8 {
		return nil, 0, fmt.Errorf("%s holds %q, want %q: %w", b.key, spec, b.spec, ErrChanged)
	}
	return bits, kv.ModRevision, nil
}

// save writes bits if the key is still at rev (0: absent), returning the
// new revision.
func (b *Bitmap) save(ctx context.Context, bits []byte, rev int64) (int64, error) {
	value := append(append([]byte(b.spec), 0), bits...)
	var newRev int64
	var err error
	if rev == 0 {
		newRev, err = b.store.Create(ctx, resource, b.key, value)
		if errors.Is(err, storage.ErrExists) {
			err = storage.ErrConflict
		}
	} else {
		newRev, err = b.store.Update(ctx, resource, b.key, rev, value)
	}
	if err == nil {
		b.metrics.written(b.name, bits)
	}
	return newRev, err
}

// modify applies fn to the current bits and writes them back by
// compare-and-swap, retrying when another writer got there first. fn
// returning false writes nothing.
func (b *Bitmap) modify(ctx context.Context, fn func(bits []byte) (bool, error)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	fresh := false // b.cached was read from etcd in this call
	for {
		if b.cached == nil {
			bits, rev, err := b.load(ctx)
			if err != nil {
				return err
			}
			b.cached, b.cachedRev, fresh = bits, rev, true
		}
		bits := bytes.Clone(b.cached)
		changed, err := fn(bits)
		if err != nil || !changed {
			if !fresh {
				// a refusal (taken, full) or nothing to do may rest
				// on stale bits: read them again before believing it
				b.cached = nil
				continue
			}
			return err
		}
		rev, err := b.save(ctx, bits, b.cachedRev)
		if errors.Is(err, storage.ErrConflict) {
			b.cached = nil
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if err != nil {
			b.cached = nil
			return err
		}
		b.cached, b.cachedRev = bits, rev
		return nil
	}
}

func get(bits []byte, i int) bool { return bits[i/8]&(1<<(i%8)) != 0 }
func set(bits []byte, i int)      { bits[i/8] |= 1 << (i % 8) }
func unset(bits []byte, i int)    { bits[i/8] &^= 1 << (i % 8) }

// Allocate takes offset i; ErrAllocated if it is taken.
func (b *Bitmap) Allocate(ctx context.Context, i int) error {
	if i < 0 || i >= b.size {
		return fmt.Errorf("offset %d outside [0,%d)", i, b.size)
	}
	err := b.modify(ctx, func(bits []byte) (bool, error) {
		if get(bits, i) {
			return false, ErrAllocated
		}
		set(bits, i)
		return true, nil
	})
	b.metrics.allocated(b.name, err)
	return err
}

// AllocateNext takes a free offset at or above from, preferring those at
// or above upper (the offsets below are left for explicit requests while
// others are free, as Kubernetes' static band). Each part is scanned from a
// random point so that concurrent allocators rarely want the same offset.
// ErrFull when none is left.
func (b *Bitmap) AllocateNext(ctx context.Context, from, upper int) (int, error) {
	upper = max(upper, from)
	var got int
	err := b.modify(ctx, func(bits []byte) (bool, error) {
		for _, part := range [][2]int{{upper, b.size}, {from, upper}} {
			if i, ok := freeIn(bits, part[0], part[1]); ok {
				set(bits, i)
				got = i
				return true, nil
			}
		}
		return false, ErrFull
	})
	b.metrics.allocated(b.name, err)
	return got, err
}

// freeIn finds a free offset in [lo, hi), starting at a random one.
func freeIn(bits []byte, lo, hi int) (int, bool) {
	n := hi - lo
	if n <= 0 {
		return 0, false
	}
	start := rand.IntN(n)
	for k := range n {
		if i := lo + (start+k)%n; !get(bits, i) {
			return i, true
		}
	}
	return 0, false
}

// Release frees the offsets; offsets already free or outside the range are
// ignored.
func (b *Bitmap) Release(ctx context.Context, offsets ...int) error {
	return b.modify(ctx, func(bits []byte) (bool, error) {
		changed := false
		for _, i := range offsets {
			if i >= 0 && i < b.size && get(bits, i) {
				unset(bits, i)
				changed = true
			}
		}
		return changed, nil
	})
}

// Used returns the allocated offsets.
func (b *Bitmap) Used(ctx context.Context) ([]int, error) {
	bits, _, err := b.load(ctx)
	if err != nil {
		return nil, err
	}
	var out []int
	for i := range b.size {
		if get(bits, i) {
			out = append(out, i)
		}
	}
	return out, nil
}

// Restore replaces the bitmap by exactly the offsets given, whatever was
// stored before (also a range of another size or spec).
func (b *Bitmap) Restore(ctx context.Context, offsets []int) error {
	bits := make([]byte, (b.size+7)/8)
	for _, i := range offsets {
		if i >= 0 && i < b.size {
			set(bits, i)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cached = nil
	for {
		var rev int64
		kv, err := b.store.Get(ctx, resource, b.key, false)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return err
		default:
			rev = kv.ModRevision
		}
		_, err = b.save(ctx, bits, rev)
		if errors.Is(err, storage.ErrConflict) && ctx.Err() == nil {
			continue
		}
		return err
	}
}

// Start brings the bitmap in line with the offsets in use when an
// apiserver starts. Another apiserver on the same etcd may have allocated
// an offset whose Service it has not stored yet, so nothing is freed here:
// used offsets are marked, and the offsets marked but not in use are
// returned as suspects for the next Reconcile. Only a bitmap of another
// range (a changed flag) is replaced outright; a missing one is created.
func (b *Bitmap) Start(ctx context.Context, used map[int]bool) (map[int]bool, error) {
	if _, _, err := b.load(ctx); errors.Is(err, ErrChanged) {
		offsets := make([]int, 0, len(used))
		for i := range used {
			offsets = append(offsets, i)
		}
		return nil, b.Restore(ctx, offsets)
	} else if err != nil {
		return nil, err
	}
	suspects, _, err := b.Reconcile(ctx, used, nil)
	return suspects, err
}

// Reconcile brings the bitmap in line with the offsets in use while
// requests keep allocating: used offsets missing from it are marked; an
// offset marked but not in use is freed only if it was also a suspect of
// the previous pass (an allocation still being stored is in use by the
// next pass). It returns this pass's suspects and how many it freed.
func (b *Bitmap) Reconcile(ctx context.Context, used, suspects map[int]bool) (map[int]bool, int, error) {
	var next map[int]bool
	var freed int
	err := b.modify(ctx, func(bits []byte) (bool, error) {
		next, freed = map[int]bool{}, 0
		changed := false
		for i := range b.size {
			switch {
			case used[i] && !get(bits, i):
				set(bits, i)
				changed = true
			case !used[i] && get(bits, i) && suspects[i]:
				unset(bits, i)
				freed++
				changed = true
			case !used[i] && get(bits, i):
				next[i] = true
			}
		}
		return changed, nil
	})
	return next, freed, err
}
