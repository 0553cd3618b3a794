package integration

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TestWatchWithoutResourceVersion: a watch with no resourceVersion first
// lists the existing objects as ADDED, then streams changes, over gRPC and
// REST (kubectl get -w does this).
func TestWatchWithoutResourceVersion(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "wl")
	for _, name := range []string{"a", "b"} {
		if _, err := s.cs.Pods().Create(ctx(t), pod("wl", name, nil)); err != nil {
			t.Fatal(err)
		}
	}

	g := s.watchGRPC(t, &metav1.ListOptions{Namespace: "wl"})
	r := s.watchREST(t, "/api/v1/namespaces/wl/pods?watch=true")
	if r.code != http.StatusOK {
		t.Fatalf("REST watch = HTTP %d", r.code)
	}
	gnext := func() (string, string, string, string) {
		ev := g.next(t)
		m := ev.GetObject().GetMetadata()
		return ev.GetType(), m.GetName(), "", m.GetResourceVersion()
	}
	rnext := func() (string, string, string, string) {
		ev := r.next(t, eventTimeout)
		return ev.Type, str(ev.Object, "metadata", "name"), "", str(ev.Object, "metadata", "resourceVersion")
	}
	initial := []wantEvent{{"ADDED", "a", ""}, {"ADDED", "b", ""}}
	wantEvents(t, gnext, initial)
	wantEvents(t, rnext, initial)
	if _, err := s.cs.Pods().Create(ctx(t), pod("wl", "c", nil)); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, gnext, []wantEvent{{"ADDED", "c", ""}})
	wantEvents(t, rnext, []wantEvent{{"ADDED", "c", ""}})
}

// TestWatchObjectLeavingSelector: an object relabelled out of a watch's
// selector is DELETED for that watcher, carrying its last matching content
// at the change's resourceVersion, as Kubernetes sends it.
func TestWatchObjectLeavingSelector(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "ws")
	from := s.listRV(t, "ws")
	w := s.watchREST(t, "/api/v1/namespaces/ws/pods?"+url.Values{"watch": {"true"}, "resourceVersion": {from}, "labelSelector": {"app=a"}}.Encode())

	p, err := s.cs.Pods().Create(ctx(t), pod("ws", "x", map[string]string{"app": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels = map[string]string{"app": "b"}
	moved, err := s.cs.Pods().Update(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t, eventTimeout); ev.Type != "ADDED" || str(ev.Object, "metadata", "name") != "x" {
		t.Fatalf("first event = %s %v, want ADDED x", ev.Type, ev.Object)
	}
	ev := w.next(t, eventTimeout)
	rv := str(ev.Object, "metadata", "resourceVersion")
	if ev.Type != "DELETED" || str(ev.Object, "metadata", "labels", "app") != "a" || rv != moved.GetMetadata().GetResourceVersion() {
		t.Fatalf("event after relabelling = %s app=%q rv %s, want DELETED with app=a at rv %s",
			ev.Type, str(ev.Object, "metadata", "labels", "app"), rv, moved.GetMetadata().GetResourceVersion())
	}
	if _, err := strconv.ParseInt(rv, 10, 64); err != nil {
		t.Fatalf("resourceVersion %q is not a revision", rv)
	}
}
