package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

// createResult is one concurrency level: pod creates through the apiserver
// and raw etcd puts of the same bytes.
type createResult struct {
	clients int
	api     throughput
	raw     throughput
}

func (r createResult) ratio() float64 {
	if r.raw.perSecond() == 0 {
		return 0
	}
	return r.api.perSecond() / r.raw.perSecond()
}

// sliceCount is how many alternating raw/apiserver slices each side of a
// concurrency level is split into (in the order raw api api raw ...), so that
// drift (the database growing) and etcd's periodic work (snapshots, backend
// commits) fall on both sides alike.
const sliceCount = 4

// storedPod is the bytes the apiserver stored for one pod, the value the raw
// baseline puts.
func (c *cluster) storedPod(ctx context.Context, ns, name string) ([]byte, error) {
	resp, err := c.etcd.Get(ctx, "/registry/pods/"+ns+"/"+name)
	if err != nil {
		return nil, fmt.Errorf("read stored pod: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("stored pod %s/%s not found under /registry/pods/", ns, name)
	}
	return resp.Kvs[0].Value, nil
}

// sameStoredPod checks that two pods were stored alike but for their
// name, uid and creation time.
func (c *cluster) sameStoredPod(ctx context.Context, ns, a, b string) error {
	var pods [2]*corev1.Pod
	for i, name := range []string{a, b} {
		value, err := c.storedPod(ctx, ns, name)
		if err != nil {
			return err
		}
		pods[i] = &corev1.Pod{}
		if err := proto.Unmarshal(value, pods[i]); err != nil {
			return fmt.Errorf("decode stored pod %s: %w", name, err)
		}
		pods[i].Metadata.Name, pods[i].Metadata.Uid, pods[i].Metadata.CreationTimestamp = "", "", nil
	}
	if !proto.Equal(pods[0], pods[1]) {
		return fmt.Errorf("the wire-level create stored %v, the typed client %v", pods[1], pods[0])
	}
	return nil
}

// measureCreates warms up, then measures each concurrency level, and when a
// CPU profile is asked for, profiles one more apiserver-only phase at the
// highest concurrency. It returns the results and the stored pod's bytes.
func measureCreates(ctx context.Context, c *cluster, o options, log io.Writer) ([]createResult, []byte, error) {
	ns, err := c.namespace(ctx, "create")
	if err != nil {
		return nil, nil, err
	}
	creator, err := newPodCreator(c.conn, newPod(ns, "template"))
	if err != nil {
		return nil, nil, err
	}
	apiOp := func(tag string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			return creator.create(ctx, fmt.Sprintf("%s-%d-%d", tag, w, seq))
		}
	}
	fmt.Fprintln(log, "bench: warming up")
	// One create through the typed client first: the wire-level creates
	// must store the same pod.
	if _, err := c.cs.Pods().Create(ctx, newPod(ns, "warm-typed")); err != nil {
		return nil, nil, fmt.Errorf("warm-up create: %w", err)
	}
	if _, err := closedLoop(ctx, o.clients[0], min(time.Second, o.duration), apiOp("warm")); err != nil {
		return nil, nil, fmt.Errorf("warm-up creates: %w", err)
	}
	if err := c.sameStoredPod(ctx, ns, "warm-typed", "warm-0-0"); err != nil {
		return nil, nil, err
	}
	value, err := c.storedPod(ctx, ns, "warm-0-0")
	if err != nil {
		return nil, nil, err
	}
	rawOp := func(tag string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			_, err := c.etcd.Put(ctx, fmt.Sprintf("%s%s-%d-%d", c.rawRoot, tag, w, seq), string(value))
			return err
		}
	}
	if _, err := closedLoop(ctx, o.clients[0], min(time.Second, o.duration)/2, rawOp("warm")); err != nil {
		return nil, nil, fmt.Errorf("warm-up puts: %w", err)
	}

	results := make([]createResult, len(o.clients))
	slice := o.duration / sliceCount
	for i, n := range o.clients {
		r := &results[i]
		r.clients = n
		fmt.Fprintf(log, "bench: pod creates and raw etcd puts, %d clients, %s each\n", n, o.duration)
		for s := range 2 * sliceCount {
			tag := fmt.Sprintf("c%d-s%d", n, s)
			if api := s%4 == 1 || s%4 == 2; api {
				t, err := closedLoop(ctx, n, slice, apiOp(tag))
				if err != nil {
					return nil, nil, fmt.Errorf("pod creates at %d clients: %w", n, err)
				}
				r.api.add(t)
			} else {
				t, err := closedLoop(ctx, n, slice, rawOp(tag))
				if err != nil {
					return nil, nil, fmt.Errorf("raw etcd puts at %d clients: %w", n, err)
				}
				r.raw.add(t)
			}
		}
		r.api.done()
		r.raw.done()
	}
	if o.cpuProfile != "" {
		n := o.clients[len(o.clients)-1]
		fmt.Fprintf(log, "bench: profiling pod creates, %d clients, %s, into %s\n", n, o.duration, o.cpuProfile)
		if err := profile(o.cpuProfile, func() error {
			_, err := closedLoop(ctx, n, o.duration, apiOp("prof"))
			return err
		}); err != nil {
			return nil, nil, fmt.Errorf("profiled creates: %w", err)
		}
	}
	return results, value, nil
}

// profile writes a CPU profile of f to path.
func profile(path string, f func() error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return err
	}
	ferr := f()
	pprof.StopCPUProfile()
	if err := out.Close(); err != nil {
		return err
	}
	return ferr
}
