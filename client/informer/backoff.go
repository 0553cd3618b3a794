package informer

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff paces retries: Initial doubles after each failure up to Max,
// and each wait is lengthened by up to Jitter of itself (still capped).
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Jitter  float64
}

// DefaultBackoff is used for the zero fields of Options.Backoff.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoff.Initial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoff.Max
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Jitter < 0 {
		b.Jitter = 0
	}
	return b
}

// backoff is the state of one retry sequence.
type backoff struct {
	cfg  Backoff
	next time.Duration
}

func newBackoff(cfg Backoff) *backoff { return &backoff{cfg: cfg, next: cfg.Initial} }

// delay returns the next wait and doubles the one after.
func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.cfg.Max)
	if b.cfg.Jitter > 0 {
		d += time.Duration(rand.Float64() * b.cfg.Jitter * float64(d))
	}
	return min(d, b.cfg.Max)
}

// wait sleeps for the next delay or until ctx ends.
func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.delay())
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (b *backoff) reset() { b.next = b.cfg.Initial }
