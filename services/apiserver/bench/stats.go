package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// latencies summarises a sample of durations.
type latencies struct {
	n             int
	p50, p99, max time.Duration
}

func summarize(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return latencies{n: len(s), p50: quantile(s, 0.50), p99: quantile(s, 0.99), max: s[len(s)-1]}
}

// quantile of a sorted sample, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// throughput is the outcome of one or more closed-loop load phases.
type throughput struct {
	ops     int
	elapsed time.Duration
	samples []time.Duration
	lat     latencies // of samples, set by done
}

// add accumulates another phase.
func (t *throughput) add(u throughput) {
	t.ops += u.ops
	t.elapsed += u.elapsed
	t.samples = append(t.samples, u.samples...)
}

// done summarises the samples and drops them.
func (t *throughput) done() {
	t.lat = summarize(t.samples)
	t.samples = nil
}

func (t throughput) perSecond() float64 {
	if t.elapsed <= 0 {
		return 0
	}
	return float64(t.ops) / t.elapsed.Seconds()
}

// closedLoop runs op from `workers` goroutines back to back for d, each
// starting its next call when the previous returns, and measures every call.
// worker and seq let op build unique names.
func closedLoop(ctx context.Context, workers int, d time.Duration, op func(ctx context.Context, worker, seq int) error) (throughput, error) {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, workers)
	errs := make([]error, workers)
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; time.Now().Before(deadline) && ctx.Err() == nil; seq++ {
				t0 := time.Now()
				if err := op(ctx, w, seq); err != nil {
					errs[w] = err
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return throughput{}, err
	}
	if err := ctx.Err(); err != nil {
		return throughput{}, err
	}
	all := slices.Concat(lats...)
	return throughput{ops: len(all), elapsed: elapsed, samples: all}, nil
}

// sequential times op one call after another for up to d, at least minN and
// at most maxN times.
func sequential(ctx context.Context, d time.Duration, minN, maxN int, op func(ctx context.Context) error) (latencies, error) {
	var lat []time.Duration
	deadline := time.Now().Add(d)
	for i := 0; i < maxN && (i < minN || time.Now().Before(deadline)); i++ {
		if err := ctx.Err(); err != nil {
			return latencies{}, err
		}
		t0 := time.Now()
		if err := op(ctx); err != nil {
			return latencies{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return summarize(lat), nil
}
