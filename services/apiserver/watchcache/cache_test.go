package watchcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const prefix = "/registry/things/"

// decodeString stores values as plain strings.
func decodeString(value []byte, _ int64) (proto.Message, error) {
	if string(value) == "corrupt" {
		return nil, errors.New("corrupt value")
	}
	return wrapperspb.String(string(value)), nil
}

func newStore(t *testing.T) *storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h, err := etcd.Open(ctx, etcd.Options{DataDir: t.TempDir(), UnsafeNoFsync: true}, zap.NewNop())
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	t.Cleanup(h.Close)
	return storage.New(h.Client, nil)
}

// start runs a cache over prefix and waits until it serves watches.
func start(t *testing.T, s *storage.Store, opts Options) *Cache {
	t.Helper()
	c := New(s, "things", prefix, decodeString, opts, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if w, ok := c.Watch(c.Revision(), false); ok {
			w.Stop()
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("watch cache not serving after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func put(t *testing.T, s *storage.Store, name, value string) int64 {
	t.Helper()
	ctx := context.Background()
	kv, err := s.Get(ctx, "things", prefix+name, false)
	if errors.Is(err, storage.ErrNotFound) {
		rev, err := s.Create(ctx, "things", prefix+name, []byte(value))
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return rev
	}
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	rev, err := s.Update(ctx, "things", prefix+name, kv.ModRevision, []byte(value))
	if err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
	return rev
}

func del(t *testing.T, s *storage.Store, name string) int64 {
	t.Helper()
	ctx := context.Background()
	kv, err := s.Get(ctx, "things", prefix+name, false)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	rev, err := s.Delete(ctx, "things", prefix+name, kv.ModRevision)
	if err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
	return rev
}

// collect reads events until it has n of them, within a deadline.
func collect(t *testing.T, w *Watcher, n int) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []Event
	for len(out) < n {
		evs, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		out = append(out, evs...)
	}
	return out
}

// describe renders events as "put a=1@5" lines for comparison.
func describe(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch e.Type {
		case storage.Put:
			prev := "-"
			if e.Prev != nil {
				prev = e.Prev.(*wrapperspb.StringValue).Value
			}
			out = append(out, fmt.Sprintf("put %s (was %s) @%d", e.Object.(*wrapperspb.StringValue).Value, prev, e.Revision))
		case storage.Deleted:
			out = append(out, fmt.Sprintf("delete %s @%d", e.Prev.(*wrapperspb.StringValue).Value, e.Revision))
		case storage.Progress:
			out = append(out, "progress")
		}
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestWatchDeliversDecodedEventsInOrder(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{})
	w, ok := c.Watch(c.Revision(), false)
	if !ok {
		t.Fatal("Watch from the current revision refused")
	}
	defer w.Stop()
	r1 := put(t, s, "a", "one")
	r2 := put(t, s, "a", "two")
	r3 := del(t, s, "a")
	got := describe(collect(t, w, 3))
	want := []string{
		fmt.Sprintf("put one (was -) @%d", r1),
		fmt.Sprintf("put two (was one) @%d", r2),
		fmt.Sprintf("delete two @%d", r3),
	}
	if !equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
}

func TestWatchResumesInsideTheWindow(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{Capacity: 3})
	var revs []int64
	for i := range 5 {
		revs = append(revs, put(t, s, fmt.Sprintf("k%d", i), fmt.Sprint(i)))
	}
	waitRevision(t, c, revs[4])

	// The window holds the last three events: a watch after the second
	// event gets exactly the third to fifth.
	w, ok := c.Watch(revs[1], false)
	if !ok {
		t.Fatalf("Watch(%d) refused with a window from %d", revs[1], revs[2])
	}
	defer w.Stop()
	got := describe(collect(t, w, 3))
	want := []string{
		fmt.Sprintf("put 2 (was -) @%d", revs[2]),
		fmt.Sprintf("put 3 (was -) @%d", revs[3]),
		fmt.Sprintf("put 4 (was -) @%d", revs[4]),
	}
	if !equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}

	// Older than the window: the caller must fall back to etcd.
	if w, ok := c.Watch(revs[0], false); ok {
		w.Stop()
		t.Fatalf("Watch(%d) served although events after it were dropped", revs[0])
	}
}

func waitRevision(t *testing.T, c *Cache, rev int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Revision() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("cache at revision %d, want %d", c.Revision(), rev)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestObjectsFollowTheStore(t *testing.T) {
	s := newStore(t)
	put(t, s, "before", "old")
	c := start(t, s, Options{Objects: true})
	if obj, ok := c.Get(prefix + "before"); !ok || obj.(*wrapperspb.StringValue).Value != "old" {
		t.Fatalf("Get(before) = %v, %v; want the object stored before the cache started", obj, ok)
	}
	waitRevision(t, c, put(t, s, "new", "fresh"))
	if obj, ok := c.Get(prefix + "new"); !ok || obj.(*wrapperspb.StringValue).Value != "fresh" {
		t.Fatalf("Get(new) = %v, %v", obj, ok)
	}
	waitRevision(t, c, del(t, s, "before"))
	if _, ok := c.Get(prefix + "before"); ok {
		t.Fatal("Get(before) found a deleted object")
	}
}

func TestSlowWatcherIsClosed(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{MaxBehind: 2})
	w, _ := c.Watch(c.Revision(), false)
	defer w.Stop()
	var last int64
	for i := range 4 {
		last = put(t, s, fmt.Sprintf("k%d", i), "v")
	}
	waitRevision(t, c, last)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if evs, err := w.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Next on a watcher four events behind (limit 2) = %d events, %v; want io.EOF", len(evs), err)
	}
}

func TestBookmarksOnlyForWatchersThatAsk(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{ProgressInterval: 20 * time.Millisecond})
	with, _ := c.Watch(c.Revision(), true)
	defer with.Stop()
	without, _ := c.Watch(c.Revision(), false)
	defer without.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// etcd reports progress once the store moved past the watch's start:
	// write a key the cache does not watch.
	if _, err := s.Create(ctx, "other", "/registry/other/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for {
		evs, err := with.Next(ctx)
		if err != nil {
			t.Fatalf("no progress event for the bookmark watcher: %v", err)
		}
		if len(evs) > 0 && evs[0].Type == storage.Progress {
			break
		}
	}
	rev := put(t, s, "a", "one")
	got := describe(collect(t, without, 1))
	if want := []string{fmt.Sprintf("put one (was -) @%d", rev)}; !equal(got, want) {
		t.Fatalf("watcher without bookmarks got %q, want only %q", got, want)
	}
}

func TestUndecodableEventIsDropped(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{})
	w, _ := c.Watch(c.Revision(), false)
	defer w.Stop()
	put(t, s, "bad", "corrupt")
	rev := put(t, s, "good", "fine")
	got := describe(collect(t, w, 1))
	if want := []string{fmt.Sprintf("put fine (was -) @%d", rev)}; !equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
}

func TestShutdownEndsWatchers(t *testing.T) {
	s := newStore(t)
	c := New(s, "things", prefix, decodeString, Options{}, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	w, ok := c.Watch(c.Revision(), false)
	for !ok {
		if time.Now().After(deadline) {
			t.Fatal("cache not serving after 10s")
		}
		time.Sleep(2 * time.Millisecond)
		w, ok = c.Watch(c.Revision(), false)
	}
	cancel()
	<-done
	nctx, ncancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ncancel()
	if _, err := w.Next(nctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after shutdown = %v, want io.EOF", err)
	}
	if _, ok := c.Watch(c.Revision(), false); ok {
		t.Fatal("a stopped cache still serves watches")
	}
}

func TestWrittenObjectIsUsedWithoutDecoding(t *testing.T) {
	s := newStore(t)
	c := start(t, s, Options{})
	w, _ := c.Watch(c.Revision(), false)
	defer w.Stop()
	ctx := context.Background()
	head, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The next write is at head+1: a hint for it is used as the event's
	// object; a hint at another revision is not.
	hinted := wrapperspb.String("from the hint")
	c.Written(prefix+"a", head+1, hinted)
	c.Written(prefix+"b", head+100, wrapperspb.String("stale hint"))
	put(t, s, "a", "stored a")
	put(t, s, "b", "stored b")
	evs := collect(t, w, 2)
	if evs[0].Object != hinted {
		t.Fatalf("event for a carries %v, want the hinted object itself", evs[0].Object)
	}
	if got := evs[1].Object.(*wrapperspb.StringValue).Value; got != "stored b" {
		t.Fatalf("event for b carries %q, want the decoded stored value", got)
	}
}
