package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
)

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

func TestCreateGetUpdateDelete(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rev, err := s.Create(ctx, "pods", "/registry/pods/default/a", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "pods", "/registry/pods/default/a", []byte("two")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("second create: got %v, want ErrExists", err)
	}
	kv, err := s.Get(ctx, "pods", "/registry/pods/default/a", false)
	if err != nil || string(kv.Value) != "one" || kv.ModRevision != rev {
		t.Fatalf("get = %+v, %v", kv, err)
	}
	rev2, err := s.Update(ctx, "pods", "/registry/pods/default/a", rev, []byte("two"))
	if err != nil || rev2 <= rev {
		t.Fatalf("update = %d, %v", rev2, err)
	}
	if _, err := s.Update(ctx, "pods", "/registry/pods/default/a", rev, []byte("stale")); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale update: got %v, want ErrConflict", err)
	}
	if _, err := s.Delete(ctx, "pods", "/registry/pods/default/a", rev); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale delete: got %v, want ErrConflict", err)
	}
	if _, err := s.Delete(ctx, "pods", "/registry/pods/default/a", rev2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "pods", "/registry/pods/default/a", false); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get after delete: got %v, want ErrNotFound", err)
	}
}

func TestListPagesAreOneSnapshot(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if _, err := s.Create(ctx, "pods", fmt.Sprintf("/registry/pods/ns/p%02d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, "pods", "/registry/pods/other/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	first, err := s.List(ctx, "pods", "/registry/pods/ns/", storage.ListOptions{Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 4 || first.Continue == "" || first.Remaining != 6 {
		t.Fatalf("first page: %d items, continue %q, remaining %d", len(first.Items), first.Continue, first.Remaining)
	}
	// A write between pages must not show up: pages read at the first revision.
	if _, err := s.Create(ctx, "pods", "/registry/pods/ns/p05a", []byte("late")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range first.Items {
		keys = append(keys, string(kv.Key))
	}
	token := first.Continue
	for token != "" {
		page, err := s.List(ctx, "pods", "/registry/pods/ns/", storage.ListOptions{Limit: 4, Continue: token})
		if err != nil {
			t.Fatal(err)
		}
		if page.Revision != first.Revision {
			t.Fatalf("page revision %d, want %d", page.Revision, first.Revision)
		}
		for _, kv := range page.Items {
			keys = append(keys, string(kv.Key))
		}
		token = page.Continue
	}
	if len(keys) != 10 {
		t.Fatalf("paged keys = %v, want the 10 of the snapshot", keys)
	}
	for i, k := range keys {
		if want := fmt.Sprintf("/registry/pods/ns/p%02d", i); k != want {
			t.Fatalf("key %d = %s, want %s", i, k, want)
		}
	}
	if _, err := s.List(ctx, "pods", "/registry/pods/ns/", storage.ListOptions{Continue: "%%%"}); !errors.Is(err, storage.ErrContinue) {
		t.Fatalf("bad token: got %v, want ErrContinue", err)
	}
}

func TestListFilterFillsPages(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		if _, err := s.Create(ctx, "pods", fmt.Sprintf("/registry/pods/ns/p%03d", i), []byte{byte(i % 3)}); err != nil {
			t.Fatal(err)
		}
	}
	keep := func(kv *storage.KV) (bool, error) { return kv.Value[0] == 0, nil }
	total, token := 0, ""
	for {
		page, err := s.List(ctx, "pods", "/registry/pods/ns/", storage.ListOptions{Limit: 30, Continue: token, Filter: keep})
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Items)
		if page.Continue == "" {
			break
		}
		if len(page.Items) != 30 {
			t.Fatalf("a non-final page has %d items, want 30", len(page.Items))
		}
		token = page.Continue
	}
	if total != 100 {
		t.Fatalf("filtered total = %d, want 100", total)
	}
}

func TestWatchFromRevisionAndCompaction(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rev1, _ := s.Create(ctx, "pods", "/registry/pods/ns/a", []byte("a1"))
	rev2, _ := s.Update(ctx, "pods", "/registry/pods/ns/a", rev1, []byte("a2"))
	if _, err := s.Delete(ctx, "pods", "/registry/pods/ns/a", rev2); err != nil {
		t.Fatal(err)
	}
	events, errf := s.Watch(ctx, "/registry/pods/ns/", rev1, storage.WatchOptions{})
	want := []struct {
		typ        storage.EventType
		value, prv string
	}{{storage.Put, "a2", "a1"}, {storage.Deleted, "", "a2"}}
	for i, w := range want {
		select {
		case ev := <-events:
			if ev.Type != w.typ || string(ev.Value) != w.value || string(ev.Prev) != w.prv {
				t.Fatalf("event %d = %+v, want %+v", i, ev, w)
			}
		case <-ctx.Done():
			t.Fatalf("event %d never came", i)
		}
	}
	cancel()
	for range events {
	}
	if err := errf(); err != nil {
		t.Fatalf("watch error after cancel = %v, want nil", err)
	}

	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	cur, err := s.CurrentRevision(ctx2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx2, cur); err != nil {
		t.Fatal(err)
	}
	events, errf = s.Watch(ctx2, "/registry/pods/ns/", rev1, storage.WatchOptions{})
	for range events {
	}
	if err := errf(); !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("watch from a compacted revision: got %v, want ErrCompacted", err)
	}
}

func TestWatchProgressNotifications(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rev, _ := s.Create(ctx, "pods", "/registry/pods/ns/a", []byte("a"))
	events, _ := s.Watch(ctx, "/registry/pods/ns/", rev, storage.WatchOptions{ProgressInterval: 50 * time.Millisecond})
	// etcd reports progress only once the store has reached the watch's start,
	// so move the revision on with a write the watch does not see.
	other, err := s.Create(ctx, "pods", "/registry/pods/other/b", []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if ev.Type == storage.Progress {
			if ev.Revision < other {
				t.Fatalf("progress revision %d < %d", ev.Revision, other)
			}
			return
		}
		t.Fatalf("unexpected event %+v", ev)
	}
	t.Fatal("no progress notification before the deadline")
}

func TestWatchProgressWhenIdleAtHead(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rev, err := s.Create(ctx, "pods", "/registry/pods/ns/a", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is written after the watch's start: etcd itself would not
	// report progress, the store reports the revision the watch is at.
	events, _ := s.Watch(ctx, "/registry/pods/ns/", rev, storage.WatchOptions{ProgressInterval: 50 * time.Millisecond})
	for ev := range events {
		if ev.Type != storage.Progress || ev.Revision != rev {
			t.Fatalf("event %+v, want progress at %d", ev, rev)
		}
		return
	}
	t.Fatal("no progress notification before the deadline")
}

// TestNoProgressForWatchesThatDidNotAsk: etcd answers a progress request to
// every watch of the client's stream; a watch without ProgressInterval must
// not pass those on.
func TestNoProgressForWatchesThatDidNotAsk(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rev, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	quiet, _ := s.Watch(ctx, "/registry/pods/q/", rev, storage.WatchOptions{})
	asking, _ := s.Watch(ctx, "/registry/pods/a/", rev, storage.WatchOptions{ProgressInterval: 20 * time.Millisecond})
	if _, err := s.Create(ctx, "pods", "/registry/pods/other/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for ev := range asking {
		if ev.Type == storage.Progress {
			break
		}
	}
	put, err := s.Create(ctx, "pods", "/registry/pods/q/p", []byte("p"))
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := <-quiet
	if !ok || ev.Type != storage.Put || ev.Revision != put {
		t.Fatalf("first event of the quiet watch = %+v (open %v), want the put at %d", ev, ok, put)
	}
}
