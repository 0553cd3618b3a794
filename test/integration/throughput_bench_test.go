package integration

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/app"
	"github.com/tugboat-sh/tugboat/test/harness"
)

// benchPods is the number of pending pods each round schedules.
const benchPods = 1000

// BenchmarkSchedulingThroughput measures pods bound per second by a real
// scheduler against a real apiserver, the figure Kubernetes' scheduler_perf
// reports: each round creates benchPods pending pods for a scheduler not
// yet running, starts it, and times from its readiness to the last
// binding, seen through a watch.
func BenchmarkSchedulingThroughput(b *testing.B) {
	for _, nodes := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			api := harness.StartAPIServer(b)
			parallel(b, nodes, func(i int) error {
				_, err := api.Client.Nodes().Create(context.Background(), benchNode(fmt.Sprintf("node-%05d", i)))
				return err
			})
			bound := watchBindings(b, api.Client)
			round := 0
			var elapsed time.Duration
			for b.Loop() {
				round++
				name := fmt.Sprintf("bench-%d", round)
				parallel(b, benchPods, func(i int) error {
					_, err := api.Client.Pods().Create(context.Background(), benchPod(fmt.Sprintf("r%d-%05d", round, i), name))
					return err
				})
				want := bound.Load() + benchPods
				var start time.Time
				harness.StartScheduler(b, api, harness.SchedulerOptions{Name: name, Configure: func(c *app.Config) {
					c.OnReady = func() { start = time.Now() }
				}})
				harness.Poll(b, 5*time.Minute, "every pod is bound", func() (bool, string) {
					n := bound.Load()
					return n >= want, fmt.Sprintf("%d of %d bound", n-want+benchPods, benchPods)
				})
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(benchPods*round)/elapsed.Seconds(), "pods/s")
		})
	}
}

func benchNode(name string) *corev1.Node {
	res := map[string]string{"cpu": "32", "memory": "128Gi", "pods": "110"}
	return &corev1.Node{
		ApiVersion: "v1", Kind: "Node",
		Metadata: &metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &corev1.NodeSpec{},
		Status: &corev1.NodeStatus{Capacity: res, Allocatable: res,
			Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}},
	}
}

func benchPod(name, scheduler string) *corev1.Pod {
	return &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &corev1.PodSpec{SchedulerName: scheduler, Containers: []*corev1.Container{{
			Name: "app", Image: "registry.local/app:1",
			Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "128Mi"}},
		}}},
	}
}

// watchBindings counts pods going from unbound to bound.
func watchBindings(b *testing.B, cs *clientset.Set) *atomic.Int64 {
	var n atomic.Int64
	inf := informer.New(cs.Pods(), informer.Options{})
	inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{UpdateFunc: func(old, p *corev1.Pod) {
		if old.GetSpec().GetNodeName() == "" && p.GetSpec().GetNodeName() != "" {
			n.Add(1)
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	b.Cleanup(func() { cancel(); wg.Wait() })
	if !inf.WaitForSync(harness.Context(b, time.Minute)) {
		b.Fatal("pod informer did not sync")
	}
	return &n
}

// parallel runs fn(0..n-1) on 32 goroutines and fails on the first error.
func parallel(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}
