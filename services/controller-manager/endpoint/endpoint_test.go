package endpoint

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"google.golang.org/grpc"
)

// eventSink keeps the Events a Recorder sends.
type eventSink struct {
	mu     sync.Mutex
	events []*corev1.Event
}

func (s *eventSink) Create(_ context.Context, ev *corev1.Event, _ ...grpc.CallOption) (*corev1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	return ev, nil
}

func (s *eventSink) Update(ctx context.Context, ev *corev1.Event, opts ...grpc.CallOption) (*corev1.Event, error) {
	return s.Create(ctx, ev, opts...)
}

func (s *eventSink) find(reason string) *corev1.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range s.events {
		if ev.GetReason() == reason {
			return ev
		}
	}
	return nil
}

// count is how many Events (created or updated) have the reason and a
// message containing msg.
func (s *eventSink) count(reason, msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.events {
		if ev.GetReason() == reason && strings.Contains(ev.GetMessage(), msg) {
			n++
		}
	}
	return n
}

type fixture struct {
	env    *testenv.Env
	c      *Controller
	events *eventSink
}

func start(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Start(t)
	sink := &eventSink{}
	rec := record.New(sink, "test", "", nil)
	go rec.Run(t.Context())
	svcs := informer.New(env.CS.Services(), informer.Options{})
	pods := informer.New(env.CS.Pods(), informer.Options{})
	eps := informer.New(env.CS.Endpoints(), informer.Options{})
	c, err := New(env.CS, svcs, pods, eps, rec, env.Metrics, env.Log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, svcs)
	testenv.Run(t, pods)
	testenv.Run(t, eps)
	go c.Run(env.Ctx, 2)
	return &fixture{env: env, c: c, events: sink}
}

// addresses returns the Endpoints' ready and not-ready pod names, "" when
// the Endpoints do not exist.
func (f *fixture) addresses(name string) (ready, notReady string, ok bool) {
	ep, err := f.env.Srv.Endpoints.Get("default", name)
	if err != nil {
		return "", "", false
	}
	var r, n []string
	for _, ss := range ep.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			r = append(r, a.GetTargetRef().GetName())
		}
		for _, a := range ss.GetNotReadyAddresses() {
			n = append(n, a.GetTargetRef().GetName())
		}
	}
	return strings.Join(r, ","), strings.Join(n, ","), true
}

// TestEndpointsFollowPods: the Endpoints appear with the Service, follow
// pods becoming ready and not ready, scaling up and down, are not written
// when nothing changed, and go with the Service.
func TestEndpointsFollowPods(t *testing.T) {
	f := start(t)
	srv := f.env.Srv
	if _, err := srv.Services.Create(testService(false, numbered("http", 80, 8080))); err != nil {
		t.Fatal(err)
	}
	a := testPod("a", "10.244.0.2")
	if _, err := srv.Pods.Create(a); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a listed not ready", func() bool { r, n, _ := f.addresses("web"); return r == "" && n == "a" })

	cur, _ := srv.Pods.Get("default", "a")
	ready(cur)
	if _, err := srv.Pods.Update(cur); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a ready", func() bool { r, n, _ := f.addresses("web"); return r == "a" && n == "" })

	for _, name := range []string{"b", "c"} {
		if _, err := srv.Pods.Create(testPod(name, "10.244.0."+map[string]string{"b": "3", "c": "4"}[name], ready)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, "scaled to three", func() bool { r, _, _ := f.addresses("web"); return r == "a,b,c" })

	// readiness lost
	cur, _ = srv.Pods.Get("default", "b")
	cur.Status.Conditions = nil
	if _, err := srv.Pods.Update(cur); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "b not ready", func() bool { r, n, _ := f.addresses("web"); return r == "a,c" && n == "b" })

	// an unrelated pod change writes nothing
	rev := srv.Endpoints.Revision()
	other := testPod("other", "10.244.0.9", ready)
	other.Metadata.Labels = map[string]string{"app": "other"}
	if _, err := srv.Pods.Create(other); err != nil {
		t.Fatal(err)
	}
	cur, _ = srv.Pods.Get("default", "a")
	cur.Metadata.Annotations = map[string]string{"touched": "yes"}
	if _, err := srv.Pods.Update(cur); err != nil {
		t.Fatal(err)
	}
	f.c.Enqueue("default/web")
	testenv.Eventually(t, "the queue drained", func() bool { return f.c.Len() == 0 })
	// a sync that changes something after them proves they were handled
	if _, err := srv.Pods.Delete("default", "c"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "scaled down to a", func() bool { r, n, _ := f.addresses("web"); return r == "a" && n == "b" })
	if got := srv.Endpoints.Revision(); got != rev+1 {
		t.Fatalf("endpoints store moved from revision %d to %d, want one write (the scale-down)", rev, got)
	}

	if _, err := srv.Services.Delete("default", "web"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "endpoints deleted with the service", func() bool { _, _, ok := f.addresses("web"); return !ok })
}

// TestEndpointsLeftAlone: a Service without a selector keeps the Endpoints
// someone else wrote.
func TestEndpointsLeftAlone(t *testing.T) {
	f := start(t)
	srv := f.env.Srv
	manual := &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Name: "db", Namespace: "default"}, Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: "192.0.2.10"}}, Ports: []*corev1.EndpointPort{epPort("", 5432)}}}}
	created, err := srv.Endpoints.Create(manual)
	if err != nil {
		t.Fatal(err)
	}
	svc := testService(false, numbered("", 5432, 5432))
	svc.Metadata.Name, svc.Spec.Selector = "db", nil
	if _, err := srv.Services.Create(svc); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pods.Create(testPod("a", "10.244.0.2", ready)); err != nil {
		t.Fatal(err)
	}
	// a selector Service synced after it proves the controller ran past it
	if _, err := srv.Services.Create(testService(false, numbered("", 80, 80))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "web's endpoints", func() bool { r, _, _ := f.addresses("web"); return r == "a" })
	f.c.Enqueue("default/db")
	testenv.Eventually(t, "the queue drained", func() bool { return f.c.Len() == 0 })
	ep, err := srv.Endpoints.Get("default", "db")
	if err != nil || ep.GetSubsets()[0].GetAddresses()[0].GetIp() != "192.0.2.10" || ep.GetMetadata().GetResourceVersion() != created.GetMetadata().GetResourceVersion() {
		t.Fatalf("manual endpoints changed: %v %v", ep, err)
	}
}

// TestUnresolvedPortEvent: a pod without the Service's named target port
// is left out, and a Warning Event on the Service names the port and pod.
func TestUnresolvedPortEvent(t *testing.T) {
	f := start(t)
	srv := f.env.Srv
	if _, err := srv.Services.Create(testService(false, named("http", 80, "web"))); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pods.Create(testPod("good", "10.244.0.2", ready, webPort(8080))); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Pods.Create(testPod("bad", "10.244.0.3", ready)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the Warning Event", func() bool { return f.events.find("FailedToResolvePort") != nil })
	ev := f.events.find("FailedToResolvePort")
	if ev.GetType() != "Warning" || ev.GetInvolvedObject().GetKind() != "Service" || ev.GetInvolvedObject().GetName() != "web" ||
		!strings.Contains(ev.GetMessage(), `default/bad`) || !strings.Contains(ev.GetMessage(), `"web"`) || !strings.Contains(ev.GetMessage(), `"http"`) {
		t.Fatalf("event %v", ev)
	}
	testenv.Eventually(t, "only good listed", func() bool { r, n, _ := f.addresses("web"); return r == "good" && n == "" })
}

// TestUnresolvedPortEventOnce: the Warning is sent when the set of
// unresolved pods changes, not again on every sync of the Service.
func TestUnresolvedPortEventOnce(t *testing.T) {
	f := start(t)
	srv := f.env.Srv
	if _, err := srv.Services.Create(testService(false, named("http", 80, "web"))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{testPod("good", "10.244.0.2", ready, webPort(8080)), testPod("bad", "10.244.0.3", ready)} {
		if _, err := srv.Pods.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, "the Warning about bad", func() bool { return f.events.count("FailedToResolvePort", "default/bad has") > 0 })
	// More syncs of the Service, the unresolved set unchanged.
	for _, name := range []string{"good2", "good3"} {
		if _, err := srv.Pods.Create(testPod(name, "10.244.0.9", ready, webPort(8080))); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, name+" listed", func() bool { r, _, _ := f.addresses("web"); return strings.Contains(r, name) })
	}
	// A change of the set is reported; the recorder sends in order, so once
	// this one is seen every earlier one has been sent.
	if _, err := srv.Pods.Create(testPod("bad2", "10.244.0.4", ready)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the Warning about bad2", func() bool { return f.events.count("FailedToResolvePort", "default/bad2 has") > 0 })
	if n := f.events.count("FailedToResolvePort", "default/bad has"); n != 1 {
		t.Fatalf("the Warning about bad was sent %d times over several syncs, want once", n)
	}
}
