package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/leader"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestInformerFollowsTheAPIServer runs the client module's informer against
// the real apiserver: it lists, then follows creates, updates and deletes in
// order, and its lister answers from the cache.
func TestInformerFollowsTheAPIServer(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "inf")
	if _, err := s.cs.Pods().Create(ctx(t), pod("inf", "before", map[string]string{"app": "x"})); err != nil {
		t.Fatal(err)
	}

	inf := informer.New[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent](s.cs.Pods(), informer.Options{Namespace: "inf"})
	var mu sync.Mutex
	var seen []string
	record := func(what string, p *corev1.Pod) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, what+" "+p.GetMetadata().GetName())
	}
	inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    func(p *corev1.Pod) { record("add", p) },
		UpdateFunc: func(_, p *corev1.Pod) { record("update", p) },
		DeleteFunc: func(p *corev1.Pod) { record("delete", p) },
	})
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { inf.Run(c); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if !inf.WaitForSync(ctx(t)) {
		t.Fatal("informer did not sync")
	}

	p, err := s.cs.Pods().Create(ctx(t), pod("inf", "after", map[string]string{"app": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.Labels = map[string]string{"app": "y"}
	if _, err := s.cs.Pods().Update(ctx(t), p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cs.Pods().Delete(ctx(t), &metav1.DeleteOptions{Namespace: "inf", Name: "before"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"add before", "add after", "update after", "delete before"}
	if !poll(eventTimeout, func() bool { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(seen) == fmt.Sprint(want) }) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("handlers saw %q, want %q", seen, want)
	}
	lister := inf.Lister()
	if got, ok := lister.Get("inf", "after"); !ok || got.GetMetadata().GetLabels()["app"] != "y" {
		t.Fatalf("lister Get(after) = %v, %v; want the updated pod", got, ok)
	}
	if n := len(lister.List(labels.Everything())); n != 1 {
		t.Fatalf("lister holds %d pods, want 1", n)
	}
}

// TestLeaderElectionOnTheAPIServer runs two candidates of the client
// module's leader election on a real Lease: one leads, and when it stops
// (releasing the lease) the other takes over.
func TestLeaderElectionOnTheAPIServer(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	leading := make(chan string, 4)
	run := func(id string) (cancel func(), done chan error) {
		c, cancel := context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() {
			done <- leader.Run(c, leader.Config{
				Client: s.cs.Leases(), Namespace: "kube-system", Name: "it-election", Identity: id,
				LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 100 * time.Millisecond,
				ReleaseOnCancel:  true,
				OnStartedLeading: func(context.Context) { leading <- id },
			})
		}()
		return cancel, done
	}
	cancelA, doneA := run("a")
	cancelB, doneB := run("b")
	// Each Run's result is read once: by the test for the first leader,
	// here for whichever is still running.
	var firstDone chan error
	t.Cleanup(func() {
		cancelA()
		cancelB()
		for _, d := range []chan error{doneA, doneB} {
			if d != firstDone {
				<-d
			}
		}
	})

	var first string
	select {
	case first = <-leading:
	case <-time.After(eventTimeout):
		t.Fatal("no candidate became leader")
	}
	l, err := s.cs.Leases().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-system", Name: "it-election"})
	if err != nil {
		t.Fatal(err)
	}
	if h := l.GetSpec().GetHolderIdentity(); h != first {
		t.Fatalf("lease holder = %q, want the leader %q", h, first)
	}
	select {
	case other := <-leading:
		t.Fatalf("%s leads while %s still holds the lease", other, first)
	default:
	}

	stop, firstDone := cancelA, doneA
	if first == "b" {
		stop, firstDone = cancelB, doneB
	}
	stop()
	if err := <-firstDone; err != nil {
		t.Fatalf("the first leader's Run = %v, want nil after cancel", err)
	}
	select {
	case second := <-leading:
		if second == first {
			t.Fatalf("%s led twice", first)
		}
	case <-time.After(eventTimeout):
		t.Fatal("the other candidate did not take over after the leader released the lease")
	}
}
