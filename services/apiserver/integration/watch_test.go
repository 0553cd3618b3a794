package integration

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const eventTimeout = 10 * time.Second

// grpcWatch is an open gRPC pod watch.
type grpcWatch struct {
	events chan *corev1.PodWatchEvent
	err    chan error
}

func (s *server) watchGRPC(t *testing.T, opts *metav1.ListOptions) *grpcWatch {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := s.cs.Pods().Watch(c, opts)
	if err != nil {
		t.Fatalf("open watch: %v", err)
	}
	w := &grpcWatch{events: make(chan *corev1.PodWatchEvent, 100), err: make(chan error, 1)}
	go func() {
		defer close(w.events)
		for {
			ev, err := stream.Recv()
			if err != nil {
				w.err <- err
				return
			}
			w.events <- ev
		}
	}()
	return w
}

func (w *grpcWatch) next(t *testing.T) *corev1.PodWatchEvent {
	t.Helper()
	select {
	case ev, ok := <-w.events:
		if !ok {
			t.Fatalf("watch ended while an event was expected: %v", <-w.err)
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatalf("no watch event within %v", eventTimeout)
	}
	return nil
}

// churn creates pod name in ns labelled step=1, relabels it step=2 and
// deletes it, through gRPC.
func (s *server) churn(t *testing.T, ns, name string) {
	t.Helper()
	p, err := s.cs.Pods().Create(ctx(t), pod(ns, name, map[string]string{"step": "1"}))
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	p.Metadata.Labels = map[string]string{"step": "2"}
	if p, err = s.cs.Pods().Update(ctx(t), p); err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
	if _, err := s.cs.Pods().Delete(ctx(t), &metav1.DeleteOptions{Namespace: ns, Name: name}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
}

// listRV is the current resourceVersion of ns's pods.
func (s *server) listRV(t *testing.T, ns string) string {
	t.Helper()
	l, err := s.cs.Pods().List(ctx(t), &metav1.ListOptions{Namespace: ns})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return l.GetMetadata().GetResourceVersion()
}

// wantEvent is an expected watch event; an empty step is not checked.
type wantEvent struct{ typ, name, step string }

// churnEvents are the events of churn.
var churnEvents = []wantEvent{{"ADDED", "w", "1"}, {"MODIFIED", "w", "2"}, {"DELETED", "w", "2"}}

// wantEvents checks a sequence of events (type, name, "step" label) with
// strictly increasing resourceVersions and returns those; next reads one.
func wantEvents(t *testing.T, next func() (typ, name, step, rv string), want []wantEvent) []string {
	t.Helper()
	var rvs []string
	last := int64(0)
	for i, w := range want {
		typ, name, step, rv := next()
		if typ != w.typ || name != w.name || (w.step != "" && step != w.step) {
			t.Fatalf("event %d = %s %s step %q, want %s %s step %q", i, typ, name, step, w.typ, w.name, w.step)
		}
		n, err := strconv.ParseInt(rv, 10, 64)
		if err != nil || n <= last {
			t.Fatalf("event %d (%s %s) has resourceVersion %q after %d: want increasing revisions", i, typ, name, rv, last)
		}
		last = n
		rvs = append(rvs, rv)
	}
	return rvs
}

func TestWatchGRPC(t *testing.T) {
	t.Parallel()
	s := start(t, options{bookmarkInterval: 200 * time.Millisecond})
	s.createNamespace(t, "wg")

	start := s.listRV(t, "wg")
	w := s.watchGRPC(t, &metav1.ListOptions{Namespace: "wg", ResourceVersion: start})
	s.churn(t, "wg", "w")
	next := func() (string, string, string, string) {
		ev := w.next(t)
		m := ev.GetObject().GetMetadata()
		return ev.GetType(), m.GetName(), m.GetLabels()["step"], m.GetResourceVersion()
	}
	rvs := wantEvents(t, next, churnEvents)

	t.Run("resume after a resourceVersion", func(t *testing.T) {
		r := s.watchGRPC(t, &metav1.ListOptions{Namespace: "wg", ResourceVersion: rvs[0]})
		rnext := func() (string, string, string, string) {
			ev := r.next(t)
			m := ev.GetObject().GetMetadata()
			return ev.GetType(), m.GetName(), m.GetLabels()["step"], m.GetResourceVersion()
		}
		got := wantEvents(t, rnext, churnEvents[1:])
		if got[0] != rvs[1] || got[1] != rvs[2] {
			t.Fatalf("resumed watch gave revisions %v, want %v", got, rvs[1:])
		}
		// Nothing else is pending: the next event is a new object's.
		if _, err := s.cs.Pods().Create(ctx(t), pod("wg", "sentinel", nil)); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, rnext, []wantEvent{{"ADDED", "sentinel", ""}})
	})

	t.Run("bookmarks when allowed", func(t *testing.T) {
		from := s.listRV(t, "wg")
		b := s.watchGRPC(t, &metav1.ListOptions{Namespace: "wg", ResourceVersion: from, AllowWatchBookmarks: true})
		ev := b.next(t)
		rv, _ := strconv.ParseInt(ev.GetObject().GetMetadata().GetResourceVersion(), 10, 64)
		fromN, _ := strconv.ParseInt(from, 10, 64)
		if ev.GetType() != "BOOKMARK" || rv < fromN || ev.GetObject().GetKind() != "Pod" {
			t.Fatalf("first event of an idle watch with bookmarks = %s kind %q rv %d, want a Pod BOOKMARK at >= %d", ev.GetType(), ev.GetObject().GetKind(), rv, fromN)
		}
	})

	t.Run("compacted resourceVersion is OutOfRange", func(t *testing.T) {
		s.compact(t)
		g := s.watchGRPC(t, &metav1.ListOptions{Namespace: "wg", ResourceVersion: rvs[0]})
		select {
		case ev, ok := <-g.events:
			if ok {
				t.Fatalf("watch from a compacted revision sent %s, want an error", ev.GetType())
			}
		case <-time.After(eventTimeout):
			t.Fatalf("watch from a compacted revision did not fail within %v", eventTimeout)
		}
		err := <-g.err
		if status.Code(err) != codes.OutOfRange {
			t.Fatalf("watch from compacted revision: %v, want OutOfRange", err)
		}
	})
}

func TestWatchREST(t *testing.T) {
	t.Parallel()
	s := start(t, options{bookmarkInterval: 200 * time.Millisecond})
	s.createNamespace(t, "wr")
	path := "/api/v1/namespaces/wr/pods?"

	start := s.listRV(t, "wr")
	w := s.watchREST(t, path+url.Values{"watch": {"true"}, "resourceVersion": {start}}.Encode())
	if w.code != http.StatusOK {
		t.Fatalf("watch = HTTP %d, want 200", w.code)
	}
	s.churn(t, "wr", "w")
	nextOf := func(w *restWatch) func() (string, string, string, string) {
		return func() (string, string, string, string) {
			ev := w.next(t, eventTimeout)
			return ev.Type, str(ev.Object, "metadata", "name"), str(ev.Object, "metadata", "labels", "step"), str(ev.Object, "metadata", "resourceVersion")
		}
	}
	rvs := wantEvents(t, nextOf(w), churnEvents)

	t.Run("resume after a resourceVersion", func(t *testing.T) {
		r := s.watchREST(t, path+url.Values{"watch": {"1"}, "resourceVersion": {rvs[0]}}.Encode())
		got := wantEvents(t, nextOf(r), churnEvents[1:])
		if got[0] != rvs[1] || got[1] != rvs[2] {
			t.Fatalf("resumed watch gave revisions %v, want %v", got, rvs[1:])
		}
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/wr/pods", podJSON("sentinel", nil))
		wantEvents(t, nextOf(r), []wantEvent{{"ADDED", "sentinel", ""}})
	})

	t.Run("watch of one object", func(t *testing.T) {
		from := s.listRV(t, "wr")
		one := s.watchREST(t, "/api/v1/namespaces/wr/pods/only?"+url.Values{"watch": {"true"}, "resourceVersion": {from}}.Encode())
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/wr/pods", podJSON("other", nil))
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/wr/pods", podJSON("only", nil))
		wantEvents(t, nextOf(one), []wantEvent{{"ADDED", "only", ""}})
	})

	t.Run("bookmarks when allowed", func(t *testing.T) {
		from := s.listRV(t, "wr")
		b := s.watchREST(t, path+url.Values{"watch": {"true"}, "resourceVersion": {from}, "allowWatchBookmarks": {"true"}}.Encode())
		ev := b.next(t, eventTimeout)
		rv, _ := strconv.ParseInt(str(ev.Object, "metadata", "resourceVersion"), 10, 64)
		fromN, _ := strconv.ParseInt(from, 10, 64)
		if ev.Type != "BOOKMARK" || rv < fromN || str(ev.Object, "kind") != "Pod" {
			t.Fatalf("first event of an idle watch with bookmarks = %s %v, want a Pod BOOKMARK at >= %d", ev.Type, ev.Object, fromN)
		}
	})

	t.Run("compacted resourceVersion is 410 Gone", func(t *testing.T) {
		// A paged list started before the compaction.
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/wr/pods", podJSON("another", nil))
		page := s.must(t, http.StatusOK, "GET", path+"limit=1", nil)
		cont := str(page, "metadata", "continue")
		if cont == "" {
			t.Fatalf("a one-item page of several pods has no continue token: %v", page["metadata"])
		}
		// Compaction keeps the revision it compacts to: move past the
		// snapshot first.
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/wr/pods", podJSON("later", nil))
		s.compact(t)

		// As Kubernetes' etcd-backed watch does, the REST watch answers 200
		// and then an ERROR event carrying the 410 Expired Status (the
		// gateway starts every stream before its first message).
		g := s.watchREST(t, path+url.Values{"watch": {"true"}, "resourceVersion": {rvs[0]}}.Encode())
		if g.code != http.StatusOK {
			t.Fatalf("watch from a compacted revision = HTTP %d, want 200 and an ERROR event", g.code)
		}
		ev := g.next(t, eventTimeout)
		if ev.Type != "ERROR" || get(ev.Object, "code") != float64(http.StatusGone) || str(ev.Object, "reason") != "Expired" {
			t.Fatalf("watch from a compacted revision sent %s %v, want ERROR with a 410 Expired Status", ev.Type, ev.Object)
		}

		tests := []struct{ name, query string }{
			{"list at an exact compacted revision", url.Values{"resourceVersion": {rvs[0]}, "resourceVersionMatch": {"Exact"}}.Encode()},
			{"continue of a compacted snapshot", url.Values{"limit": {"1"}, "continue": {cont}}.Encode()},
		}
		for _, tt := range tests {
			r := s.do(t, "GET", path+tt.query, nil)
			if st := r.status(t); r.code != http.StatusGone || st.Reason != "Expired" {
				t.Fatalf("%s = HTTP %d %s, want 410 Expired", tt.name, r.code, r.body)
			}
		}
	})
}
