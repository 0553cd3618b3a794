package informer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/fake"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

var fastBackoff = Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: 0.2}

func startFake(t *testing.T) *fake.Server {
	t.Helper()
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func podClient(t *testing.T, srv *fake.Server) corev1.PodServiceClient {
	t.Helper()
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return corev1.NewPodServiceClient(conn)
}

func pod(ns, name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}}
}

func mustCreate(t *testing.T, s *fake.Store[*corev1.Pod], p *corev1.Pod) *corev1.Pod {
	t.Helper()
	out, err := s.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// recorder writes every handler call as a line such as "add ns/a@2",
// "update ns/a@2->3" or "delete ns/a@3".
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, s)
}

func (r *recorder) OnAdd(o *corev1.Pod) {
	r.add(fmt.Sprintf("add %s@%s", Key(o.Metadata), o.Metadata.ResourceVersion))
}

func (r *recorder) OnUpdate(old, o *corev1.Pod) {
	r.add(fmt.Sprintf("update %s@%s->%s", Key(o.Metadata), old.Metadata.ResourceVersion, o.Metadata.ResourceVersion))
}

func (r *recorder) OnDelete(o *corev1.Pod) {
	r.add(fmt.Sprintf("delete %s@%s", Key(o.Metadata), o.Metadata.ResourceVersion))
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// waitFor polls cond until it holds or a 10s deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run starts inf with rec attached and waits for the initial sync.
func run[T Object](t *testing.T, inf *Informer[T], h Handler[T]) {
	t.Helper()
	if h != nil {
		inf.AddHandler(h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if !inf.WaitForSync(sctx) {
		t.Fatal("informer did not sync")
	}
}

func TestInitialSyncIsPaged(t *testing.T) {
	srv := startFake(t)
	for i := range 5 {
		mustCreate(t, srv.Pods, pod("ns", fmt.Sprintf("p%d", i), nil))
	}
	rec := &recorder{}
	inf := New(podClient(t, srv), Options{PageSize: 2, Backoff: fastBackoff})
	if inf.HasSynced() {
		t.Fatal("HasSynced before Run")
	}
	run(t, inf, rec)

	want := []string{"add ns/p0@2", "add ns/p1@3", "add ns/p2@4", "add ns/p3@5", "add ns/p4@6"}
	got := rec.get()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("handlers saw %v by sync, want %v", got, want)
	}
	if n := len(inf.Lister().List(nil)); n != 5 {
		t.Fatalf("Lister has %d pods, want 5", n)
	}
	lists := srv.Pods.ListRequests()
	var conts []string
	for _, l := range lists {
		if l.GetLimit() != 2 {
			t.Fatalf("List limit = %d, want 2", l.GetLimit())
		}
		conts = append(conts, l.GetContinue())
	}
	if !slices.Equal(conts, []string{"", "ns/p1", "ns/p3"}) {
		t.Fatalf("List continue tokens = %q, want three pages", conts)
	}
	waitFor(t, "the watch", func() bool { return len(srv.Pods.WatchRequests()) > 0 })
	w := srv.Pods.WatchRequests()[0]
	if w.GetResourceVersion() != "6" || !w.GetAllowWatchBookmarks() {
		t.Fatalf("watch from rv %q bookmarks=%v, want from the list's rv 6 with bookmarks", w.GetResourceVersion(), w.GetAllowWatchBookmarks())
	}
}

func TestSelectors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{name: "everything", want: []string{"a/web", "a/db", "b/web", "a/late", "c/late"}},
		{name: "namespace", opts: Options{Namespace: "a"}, want: []string{"a/web", "a/db", "a/late"}},
		{name: "label selector", opts: Options{LabelSelector: "tier=web"}, want: []string{"a/web", "b/web", "a/late"}},
		{name: "both", opts: Options{Namespace: "b", LabelSelector: "tier in (web)"}, want: []string{"b/web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t)
			mustCreate(t, srv.Pods, pod("a", "web", map[string]string{"tier": "web"}))
			mustCreate(t, srv.Pods, pod("a", "db", map[string]string{"tier": "db"}))
			mustCreate(t, srv.Pods, pod("b", "web", map[string]string{"tier": "web"}))
			tt.opts.Backoff = fastBackoff
			inf := New(podClient(t, srv), tt.opts)
			run(t, inf, nil)
			// Watched objects obey the selection too.
			mustCreate(t, srv.Pods, pod("c", "late", map[string]string{"tier": "cache"}))
			mustCreate(t, srv.Pods, pod("a", "late", map[string]string{"tier": "web"}))
			want := slices.Sorted(slices.Values(tt.want))
			waitFor(t, fmt.Sprintf("cache %v", want), func() bool {
				var got []string
				for _, p := range inf.Lister().List(nil) {
					got = append(got, Key(p.Metadata))
				}
				slices.Sort(got)
				return slices.Equal(got, want)
			})
		})
	}
}

func TestHandlersInOrder(t *testing.T) {
	srv := startFake(t)
	rec := &recorder{}
	inf := New(podClient(t, srv), Options{Backoff: fastBackoff})
	run(t, inf, rec)

	p := mustCreate(t, srv.Pods, pod("ns", "a", nil)) // rv 2
	p.Metadata.Labels = map[string]string{"v": "2"}
	if _, err := srv.Pods.Update(p); err != nil { // rv 3
		t.Fatal(err)
	}
	mustCreate(t, srv.Pods, pod("ns", "b", nil))          // rv 4
	if _, err := srv.Pods.Delete("ns", "a"); err != nil { // rv 5
		t.Fatal(err)
	}
	want := []string{"add ns/a@2", "update ns/a@2->3", "add ns/b@4", "delete ns/a@5"}
	waitFor(t, "four handler calls", func() bool { return len(rec.get()) >= len(want) })
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("handler calls = %v, want %v", got, want)
	}
	if _, ok := inf.Lister().Get("ns", "a"); ok {
		t.Fatal("deleted pod ns/a still in the lister")
	}
	if b, ok := inf.Lister().Get("ns", "b"); !ok || b.Metadata.ResourceVersion != "4" {
		t.Fatalf("Lister.Get(ns, b) = %v, %v; want rv 4", b, ok)
	}
	if rv := inf.LastSyncResourceVersion(); rv != "5" {
		t.Fatalf("LastSyncResourceVersion = %q, want 5", rv)
	}
}

func TestWatchResumesFromLastResourceVersion(t *testing.T) {
	srv := startFake(t)
	rec := &recorder{}
	inf := New(podClient(t, srv), Options{Backoff: fastBackoff})
	run(t, inf, rec)
	mustCreate(t, srv.Pods, pod("ns", "a", nil)) // rv 2
	waitFor(t, "add of a", func() bool { return len(rec.get()) == 1 })

	srv.Pods.CloseWatches()
	waitFor(t, "a second watch", func() bool { return len(srv.Pods.WatchRequests()) >= 2 })
	mustCreate(t, srv.Pods, pod("ns", "b", nil)) // rv 3
	waitFor(t, "add of b", func() bool { return len(rec.get()) == 2 })

	if got := rec.get(); !slices.Equal(got, []string{"add ns/a@2", "add ns/b@3"}) {
		t.Fatalf("handler calls = %v", got)
	}
	ws := srv.Pods.WatchRequests()
	if len(ws) < 2 || ws[1].GetResourceVersion() != "2" {
		t.Fatalf("watch requests %v: want the second from rv 2", ws)
	}
	if n := len(srv.Pods.ListRequests()); n != 1 {
		t.Fatalf("%d List calls, want 1: a resumed watch must not relist", n)
	}
}

func TestBookmarkAdvancesResourceVersion(t *testing.T) {
	srv := startFake(t)
	inf := New(podClient(t, srv), Options{Namespace: "mine", Backoff: fastBackoff})
	run(t, inf, nil)
	waitFor(t, "the watch", func() bool { return len(srv.Pods.WatchRequests()) == 1 })
	mustCreate(t, srv.Pods, pod("other", "x", nil)) // rv 2, filtered out
	srv.Pods.SendBookmark()
	waitFor(t, "bookmark rv 2", func() bool { return inf.LastSyncResourceVersion() == "2" })
	srv.Pods.CloseWatches()
	waitFor(t, "a second watch", func() bool { return len(srv.Pods.WatchRequests()) >= 2 })
	if rv := srv.Pods.WatchRequests()[1].GetResourceVersion(); rv != "2" {
		t.Fatalf("resumed from rv %q, want the bookmark's 2", rv)
	}
	if n := len(inf.Lister().List(nil)); n != 0 {
		t.Fatalf("cache has %d pods, want 0 (the bookmark carries no object)", n)
	}
}

func TestRelistOnGoneDeletesVanished(t *testing.T) {
	srv := startFake(t)
	a := mustCreate(t, srv.Pods, pod("ns", "a", nil)) // rv 2
	mustCreate(t, srv.Pods, pod("ns", "b", nil))      // rv 3
	rec := &recorder{}
	inf := New(podClient(t, srv), Options{Backoff: fastBackoff})
	run(t, inf, rec)

	// Keep the informer from watching while the history changes and is
	// compacted, as when it is disconnected for longer than etcd keeps history.
	srv.Pods.Fail(fake.OpWatch, status.Error(codes.Unavailable, "down"))
	srv.Pods.CloseWatches()
	n := len(srv.Pods.WatchRequests())
	waitFor(t, "a failing watch", func() bool { return len(srv.Pods.WatchRequests()) > n })
	if _, err := srv.Pods.Delete("ns", "b"); err != nil { // rv 4
		t.Fatal(err)
	}
	mustCreate(t, srv.Pods, pod("ns", "c", nil)) // rv 5
	a.Metadata.Labels = map[string]string{"x": "y"}
	if _, err := srv.Pods.Update(a); err != nil { // rv 6
		t.Fatal(err)
	}
	srv.Pods.Compact()
	srv.Pods.Fail(fake.OpWatch, nil)

	waitFor(t, "relist events", func() bool { return len(rec.get()) >= 5 })
	got := rec.get()[2:]
	slices.Sort(got)
	want := []string{"add ns/c@5", "delete ns/b@3", "update ns/a@2->6"}
	if !slices.Equal(got, want) {
		t.Fatalf("events after relist = %v, want %v", got, want)
	}
	if n := len(srv.Pods.ListRequests()); n != 2 {
		t.Fatalf("%d List calls, want 2 (initial and relist)", n)
	}
	if _, ok := inf.Lister().Get("ns", "b"); ok {
		t.Fatal("vanished pod ns/b still cached")
	}
	var sawGone bool
	for _, w := range srv.Pods.WatchRequests() {
		sawGone = sawGone || w.GetResourceVersion() == "3"
	}
	if !sawGone {
		t.Fatal("no watch from the compacted rv 3 was attempted")
	}
}

func TestListErrorsAreRetried(t *testing.T) {
	srv := startFake(t)
	mustCreate(t, srv.Pods, pod("ns", "a", nil))
	srv.Pods.Fail(fake.OpList, status.Error(codes.Unavailable, "starting"))
	inf := New(podClient(t, srv), Options{Backoff: fastBackoff})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { inf.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "three failed lists", func() bool { return len(srv.Pods.ListRequests()) >= 3 })
	if inf.HasSynced() {
		t.Fatal("synced although every List failed")
	}
	srv.Pods.Fail(fake.OpList, nil)
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if !inf.WaitForSync(sctx) {
		t.Fatal("not synced after List recovered")
	}
	if _, ok := inf.Lister().Get("ns", "a"); !ok {
		t.Fatal("ns/a not cached after sync")
	}
}

func TestResync(t *testing.T) {
	srv := startFake(t)
	mustCreate(t, srv.Pods, pod("ns", "a", nil))
	mustCreate(t, srv.Pods, pod("ns", "b", nil))
	rec := &recorder{}
	inf := New(podClient(t, srv), Options{ResyncPeriod: 20 * time.Millisecond, Backoff: fastBackoff})
	run(t, inf, rec)
	waitFor(t, "two resyncs of each pod", func() bool {
		got := rec.get()
		return slices.Index(got, "update ns/a@2->2") >= 0 &&
			strings.Count(strings.Join(got, "\n"), "update ns/b@3->3") >= 2
	})
}

func TestListerSelects(t *testing.T) {
	srv := startFake(t)
	mustCreate(t, srv.Pods, pod("a", "web", map[string]string{"tier": "web"}))
	mustCreate(t, srv.Pods, pod("a", "db", map[string]string{"tier": "db"}))
	mustCreate(t, srv.Pods, pod("b", "web", map[string]string{"tier": "web"}))
	inf := New(podClient(t, srv), Options{Backoff: fastBackoff})
	run(t, inf, nil)
	sel, err := labels.Parse("tier=web")
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, Key(p.Metadata))
		}
		slices.Sort(out)
		return out
	}
	if got := keys(inf.Lister().List(sel)); !slices.Equal(got, []string{"a/web", "b/web"}) {
		t.Fatalf("List(tier=web) = %v", got)
	}
	if got := keys(inf.Lister().ListNamespace("a", labels.Everything())); !slices.Equal(got, []string{"a/db", "a/web"}) {
		t.Fatalf("ListNamespace(a) = %v", got)
	}
	if _, ok := inf.Lister().Get("b", "db"); ok {
		t.Fatal("Get(b, db) found a pod that does not exist")
	}
}

func TestLeaseInformer(t *testing.T) {
	srv := startFake(t)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lease := &coordinationv1.Lease{
		Metadata: &metav1.ObjectMeta{Namespace: "kube-node-lease", Name: "node-1"},
		Spec:     &coordinationv1.LeaseSpec{HolderIdentity: proto.String("node-1")},
	}
	if _, err := srv.Leases.Create(lease); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	var mu sync.Mutex
	inf := New(coordinationv1.NewLeaseServiceClient(conn), Options{Backoff: fastBackoff})
	run(t, inf, HandlerFuncs[*coordinationv1.Lease]{DeleteFunc: func(l *coordinationv1.Lease) {
		mu.Lock()
		defer mu.Unlock()
		deleted = append(deleted, Key(l.Metadata))
	}})
	got, ok := inf.Lister().Get("kube-node-lease", "node-1")
	if !ok || got.GetSpec().GetHolderIdentity() != "node-1" {
		t.Fatalf("lease not cached: %v %v", got, ok)
	}
	if _, err := srv.Leases.Delete("kube-node-lease", "node-1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "lease delete", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Equal(deleted, []string{"kube-node-lease/node-1"})
	})
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	b := newBackoff(Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: 0.5})
	base := []time.Duration{10, 20, 40, 80, 100, 100}
	for i, ms := range base {
		lo := ms * time.Millisecond
		hi := min(lo+lo/2, 100*time.Millisecond)
		if d := b.delay(); d < lo || d > hi {
			t.Fatalf("delay #%d = %v, want in [%v, %v]", i+1, d, lo, hi)
		}
	}
	b.reset()
	if d := b.delay(); d < 10*time.Millisecond || d > 15*time.Millisecond {
		t.Fatalf("delay after reset = %v, want about 10ms", d)
	}
}

func TestSplitKey(t *testing.T) {
	for _, k := range []string{"ns/name", "name"} {
		ns, n := SplitKey(k)
		if got := Key(&metav1.ObjectMeta{Namespace: ns, Name: n}); got != k {
			t.Fatalf("Key(SplitKey(%q)) = %q", k, got)
		}
	}
}
