package runner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type calls struct {
	mu    sync.Mutex
	times []time.Time
	fail  int
}

func (c *calls) fn() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.times = append(c.times, time.Now())
	if c.fail > 0 {
		c.fail--
		return errors.New("boom")
	}
	return nil
}

func (c *calls) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.times)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, r *Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestRunner(t *testing.T) {
	t.Run("runs at once, then coalesces a burst into one run no sooner than min", func(t *testing.T) {
		c := &calls{}
		r := New(c.fn, 200*time.Millisecond, time.Hour)
		start(t, r)
		waitFor(t, "the first run", func() bool { return c.n() == 1 })
		for range 50 {
			r.Trigger()
		}
		waitFor(t, "the triggered run", func() bool { return c.n() == 2 })
		c.mu.Lock()
		gap := c.times[1].Sub(c.times[0])
		c.mu.Unlock()
		if gap < 200*time.Millisecond {
			t.Fatalf("runs %v apart, want at least 200ms", gap)
		}
		// Nothing else pending: no third run within a few min intervals.
		deadline := time.Now().Add(600 * time.Millisecond)
		for time.Now().Before(deadline) {
			if c.n() != 2 {
				t.Fatalf("%d runs after one burst, want 2", c.n())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("runs every max without triggers", func(t *testing.T) {
		c := &calls{}
		start(t, New(c.fn, 10*time.Millisecond, 50*time.Millisecond))
		waitFor(t, "periodic runs", func() bool { return c.n() >= 4 })
	})
	t.Run("retries a failure after min", func(t *testing.T) {
		c := &calls{fail: 2}
		start(t, New(c.fn, 20*time.Millisecond, time.Hour))
		waitFor(t, "two retries", func() bool { return c.n() >= 3 })
	})
}
