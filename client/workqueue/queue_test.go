package workqueue

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newQueue(t *testing.T, cfg Config[string]) *Queue[string] {
	t.Helper()
	q, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.ShutDown)
	return q
}

// getWithin calls Get and fails the test if it does not return within d.
func getWithin(t *testing.T, q *Queue[string], d time.Duration) (string, bool) {
	t.Helper()
	type res struct {
		k    string
		shut bool
	}
	ch := make(chan res, 1)
	go func() { k, s := q.Get(); ch <- res{k, s} }()
	select {
	case r := <-ch:
		return r.k, r.shut
	case <-time.After(d):
		t.Fatalf("Get did not return within %v", d)
		return "", false
	}
}

func TestAddDeduplicates(t *testing.T) {
	q := newQueue(t, Config[string]{})
	for _, k := range []string{"a", "b", "a", "a", "b", "c"} {
		q.Add(k)
	}
	if got := q.Len(); got != 3 {
		t.Fatalf("Len = %d after adding a,b,a,a,b,c, want 3", got)
	}
	var got []string
	for range 3 {
		k, _ := getWithin(t, q, time.Second)
		got = append(got, k)
		q.Done(k)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("got keys %v, want a,b,c in first-added order", got)
	}
}

func TestReAddWhileProcessingRequeuesAfterDone(t *testing.T) {
	q := newQueue(t, Config[string]{})
	q.Add("a")
	k, _ := getWithin(t, q, time.Second)
	q.Add("a")
	q.Add("a")
	if q.Len() != 0 {
		t.Fatalf("Len = %d while a is processing, want 0 (not handed out twice)", q.Len())
	}
	q.Done(k)
	if q.Len() != 1 {
		t.Fatalf("Len = %d after Done of a re-added key, want 1", q.Len())
	}
	if k2, _ := getWithin(t, q, time.Second); k2 != "a" {
		t.Fatalf("requeued key = %q, want a", k2)
	}
}

func TestNoConcurrentProcessingOfOneKey(t *testing.T) {
	q := newQueue(t, Config[string]{})
	var active [3]atomic.Int32
	var processed atomic.Int32
	var violations atomic.Int32
	keys := []string{"k0", "k1", "k2"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, shut := q.Get()
				if shut {
					return
				}
				i := int(k[1] - '0')
				if active[i].Add(1) != 1 {
					violations.Add(1)
				}
				time.Sleep(100 * time.Microsecond) // widen the window a second worker would hit
				active[i].Add(-1)
				processed.Add(1)
				q.Done(k)
			}
		}()
	}
	for i := range 2000 {
		q.Add(keys[i%3])
	}
	q.ShutDownWithDrain()
	wg.Wait()
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d times a key was processed by two workers at once", v)
	}
	if processed.Load() == 0 {
		t.Fatal("no key was processed")
	}
}

func TestExponentialBackoffGrowsAndForgetResets(t *testing.T) {
	r := NewExponentialRateLimiter[string](5*time.Millisecond, 40*time.Millisecond)
	want := []time.Duration{5, 10, 20, 40, 40}
	for i, w := range want {
		if got := r.When("a"); got != w*time.Millisecond {
			t.Fatalf("When #%d = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if got := r.When("b"); got != 5*time.Millisecond {
		t.Fatalf("When(b) = %v, want 5ms: backoff is per key", got)
	}
	if n := r.NumRequeues("a"); n != 6-1 {
		t.Fatalf("NumRequeues(a) = %d, want 5", n)
	}
	r.Forget("a")
	if n := r.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", n)
	}
	if got := r.When("a"); got != 5*time.Millisecond {
		t.Fatalf("When after Forget = %v, want 5ms", got)
	}
}

func TestDefaultRateLimiter(t *testing.T) {
	r := DefaultRateLimiter[string]()
	if got := r.When("a"); got != 5*time.Millisecond {
		t.Fatalf("first When = %v, want 5ms", got)
	}
	for range 30 {
		r.When("a")
	}
	if got := r.When("a"); got != 1000*time.Second {
		t.Fatalf("When after 32 failures = %v, want the 1000s cap", got)
	}
	// The token bucket (burst 100, 10 qps) delays the 101st distinct key.
	b := DefaultRateLimiter[int]()
	for i := range 100 {
		if d := b.When(i); d != 5*time.Millisecond {
			t.Fatalf("key %d within the burst delayed %v, want 5ms", i, d)
		}
	}
	if d := b.When(1000); d < 50*time.Millisecond {
		t.Fatalf("key after the burst delayed %v, want about 100ms from the 10 qps bucket", d)
	}
}

func TestAddRateLimited(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := newQueue(t, Config[string]{
		Name:        "test",
		Registerer:  reg,
		RateLimiter: NewExponentialRateLimiter[string](time.Millisecond, time.Second),
	})
	for i := 1; i <= 3; i++ {
		q.AddRateLimited("a")
		k, _ := getWithin(t, q, 5*time.Second)
		if k != "a" {
			t.Fatalf("Get = %q, want a", k)
		}
		q.Done(k)
		if n := q.NumRequeues("a"); n != i {
			t.Fatalf("NumRequeues = %d after %d rate-limited adds", n, i)
		}
	}
	q.Forget("a")
	if n := q.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", n)
	}
	if got := counterValue(t, reg, "tugboat_workqueue_retries_total"); got != 3 {
		t.Fatalf("retries_total = %v, want 3", got)
	}
	if got := counterValue(t, reg, "tugboat_workqueue_adds_total"); got != 3 {
		t.Fatalf("adds_total = %v, want 3", got)
	}
}

// counterValue returns the value of the single-series counter name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestAddAfter(t *testing.T) {
	q := newQueue(t, Config[string]{})
	start := time.Now()
	q.AddAfter("late", 80*time.Millisecond)
	q.AddAfter("early", 20*time.Millisecond)
	q.AddAfter("now", 0)
	var got []string
	for range 3 {
		k, _ := getWithin(t, q, 5*time.Second)
		got = append(got, k)
		q.Done(k)
	}
	if strings.Join(got, ",") != "now,early,late" {
		t.Fatalf("order = %v, want now,early,late", got)
	}
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Fatalf("late came after %v, want >= 80ms", el)
	}
}

func TestShutDownUnblocksGet(t *testing.T) {
	q := newQueue(t, Config[string]{})
	done := make(chan bool)
	go func() { _, shut := q.Get(); done <- shut }()
	q.ShutDown()
	select {
	case shut := <-done:
		if !shut {
			t.Fatal("Get returned a key after ShutDown of an empty queue")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get still blocked after ShutDown")
	}
	q.Add("x")
	if q.Len() != 0 {
		t.Fatal("Add after ShutDown queued a key")
	}
}

func TestShutDownWithDrainWaitsForDone(t *testing.T) {
	q := newQueue(t, Config[string]{})
	q.Add("a")
	k, _ := getWithin(t, q, time.Second)
	drained := make(chan struct{})
	go func() { q.ShutDownWithDrain(); close(drained) }()
	select {
	case <-drained:
		t.Fatal("ShutDownWithDrain returned while a key was processing")
	case <-time.After(20 * time.Millisecond):
	}
	q.Done(k)
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("ShutDownWithDrain did not return after Done")
	}
}

func TestMetricsDepthAndSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newQueue(t, Config[string]{Name: "a", Registerer: reg})
	b := newQueue(t, Config[string]{Name: "b", Registerer: reg})
	a.Add("x")
	a.Add("y")
	b.Add("z")
	want := `
# HELP tugboat_workqueue_depth Keys waiting in a work queue.
# TYPE tugboat_workqueue_depth gauge
tugboat_workqueue_depth{name="a"} 2
tugboat_workqueue_depth{name="b"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tugboat_workqueue_depth"); err != nil {
		t.Fatal(err)
	}
}
