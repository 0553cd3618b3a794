package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchResult is watch delivery latency through the apiserver and through
// raw etcd watches of puts at the same rate.
type watchResult struct {
	watchers, rate, creates int
	apiFromSend             latencies // create sent -> ADDED received
	apiFromReturn           latencies // create returned -> ADDED received (0 when it came first)
	rawFromSend             latencies // put sent -> put event received
}

// syncName is created first; once every watcher has seen it the watches are
// known to be live and timing starts.
const syncName = "sync"

// watchTarget is one side of the measurement.
type watchTarget struct {
	// open starts a watcher; next blocks for the name of the next created object.
	open   func(ctx context.Context) (next func() (string, error), err error)
	create func(ctx context.Context, name string) error
}

func measureWatch(ctx context.Context, c *cluster, o options, value []byte, log io.Writer) (watchResult, error) {
	res := watchResult{watchers: o.watchers, rate: o.watchRate, creates: int(float64(o.watchRate) * o.watchDuration.Seconds())}
	ns, err := c.namespace(ctx, "watch")
	if err != nil {
		return res, err
	}
	api := watchTarget{
		open: func(ctx context.Context) (func() (string, error), error) {
			conn, err := c.dial(ctx)
			if err != nil {
				return nil, err
			}
			context.AfterFunc(ctx, func() { _ = conn.Close() })
			return watchPodNames(ctx, conn, ns)
		},
		create: func(ctx context.Context, name string) error {
			_, err := c.cs.Pods().Create(ctx, newPod(ns, name))
			return err
		},
	}
	fmt.Fprintf(log, "bench: watch delivery, %d watchers, %d creates/s through the apiserver\n", o.watchers, o.watchRate)
	if res.apiFromSend, res.apiFromReturn, err = watchLatency(ctx, o.watchers, o.watchRate, res.creates, api); err != nil {
		return res, fmt.Errorf("apiserver watch: %w", err)
	}

	prefix := c.rawRoot + "watch/"
	rev, err := c.etcd.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return res, err
	}
	raw := watchTarget{
		open: func(ctx context.Context) (func() (string, error), error) {
			wch := c.etcd.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithRev(rev.Header.Revision+1))
			var pending []string
			return func() (string, error) {
				for len(pending) == 0 {
					resp, ok := <-wch
					if !ok {
						return "", errors.New("etcd watch closed")
					}
					if err := resp.Err(); err != nil {
						return "", err
					}
					for _, ev := range resp.Events {
						if ev.Type == clientv3.EventTypePut {
							pending = append(pending, strings.TrimPrefix(string(ev.Kv.Key), prefix))
						}
					}
				}
				name := pending[0]
				pending = pending[1:]
				return name, nil
			}, nil
		},
		create: func(ctx context.Context, name string) error {
			_, err := c.etcd.Put(ctx, prefix+name, string(value))
			return err
		},
	}
	fmt.Fprintf(log, "bench: watch delivery, %d watchers, %d puts/s on raw etcd\n", o.watchers, o.watchRate)
	if res.rawFromSend, _, err = watchLatency(ctx, o.watchers, o.watchRate, res.creates, raw); err != nil {
		return res, fmt.Errorf("raw etcd watch: %w", err)
	}
	return res, nil
}

// watchLatency opens the watchers, waits until all of them see a sync
// object, then creates `total` objects at `rate` per second (each in its own
// goroutine, so a slow create does not slow the pace) and measures, for every
// watcher and object, the time from the create being sent and from it
// returning to the watcher receiving it.
func watchLatency(ctx context.Context, watchers, rate, total int, t watchTarget) (fromSend, fromReturn latencies, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sent := make([]time.Time, total)
	returned := make([]time.Time, total)
	type arrival struct {
		i  int
		at time.Time
	}
	arrivals := make([][]arrival, watchers)
	var synced, done sync.WaitGroup
	var received atomic.Int64
	var errs firstError
	for w := range watchers {
		next, err := t.open(ctx)
		if err != nil {
			return fromSend, fromReturn, fmt.Errorf("open watcher %d: %w", w, err)
		}
		synced.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			seenSync := false
			defer func() {
				if !seenSync {
					synced.Done()
				}
			}()
			for {
				name, err := next()
				now := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						errs.set(fmt.Errorf("watcher %d: %w", w, err))
					}
					return
				}
				if name == syncName {
					seenSync = true
					synced.Done()
					continue
				}
				i, err := strconv.Atoi(strings.TrimPrefix(name, "w-"))
				if err != nil || i < 0 || i >= total {
					errs.set(fmt.Errorf("watcher %d: unexpected object %q", w, name))
					return
				}
				arrivals[w] = append(arrivals[w], arrival{i, now})
				received.Add(1)
			}
		}()
	}
	if err := t.create(ctx, syncName); err != nil {
		return fromSend, fromReturn, fmt.Errorf("create sync object: %w", err)
	}
	if err := waitGroup(ctx, &synced, 30*time.Second); err != nil {
		return fromSend, fromReturn, fmt.Errorf("watchers to see the sync object: %w", err)
	}
	if err := errs.get(); err != nil {
		return fromSend, fromReturn, err
	}

	var creators sync.WaitGroup
	createErrs := make([]error, total)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		creators.Add(1)
		go func() {
			defer creators.Done()
			sent[i] = time.Now()
			createErrs[i] = t.create(ctx, fmt.Sprintf("w-%06d", i))
			returned[i] = time.Now()
		}()
	}
	creators.Wait()
	if err := errors.Join(createErrs...); err != nil {
		return fromSend, fromReturn, err
	}
	want := int64(total * watchers)
	deadline := time.Now().Add(30 * time.Second)
	for received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	done.Wait()
	if got := received.Load(); got < want {
		return fromSend, fromReturn, fmt.Errorf("watchers received %d events, want %d (%v)", got, want, errs.get())
	}
	var s, r []time.Duration
	for _, as := range arrivals {
		for _, a := range as {
			s = append(s, a.at.Sub(sent[a.i]))
			r = append(r, max(0, a.at.Sub(returned[a.i])))
		}
	}
	return summarize(s), summarize(r), nil
}

// waitGroup waits for wg with a deadline.
func waitGroup(ctx context.Context, wg *sync.WaitGroup, d time.Duration) error {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-time.After(d):
		return fmt.Errorf("not done after %s", d)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstError keeps the first error of many goroutines.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
