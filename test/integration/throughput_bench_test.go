package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
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
const benchPods = 3000

// benchImage is an image the hollow nodes' fake runtimes can pull.
const benchImage = "tugboat.local/app:1"

// windowProfile names a CPU profile of the scheduling window alone, from
// the scheduler's start to the last binding (and the last pod Running on
// hollow nodes), without the set-up that -cpuprofile also covers; one file
// per sub-benchmark, its name appended. It cannot be used with -cpuprofile.
var windowProfile = flag.String("window-cpuprofile", "", "write a CPU profile of each scheduling benchmark's first timed window to `file`.<sub-benchmark>")

// BenchmarkSchedulingThroughput measures pods bound per second by a real
// scheduler against a real apiserver, the figure Kubernetes' scheduler_perf
// reports: each round creates benchPods pending pods for a scheduler not
// yet running, starts it, and times from its start to the last binding,
// seen through a watch.
//
// The nodes are either Node objects written through the API (nodes=N/api:
// nothing runs the pods) or hollow kubelets (nodes=N/hollow): real
// kubelets over in-memory fake runtimes that registered themselves, renew
// their leases while the scheduler works and run every bound pod as fake
// containers, reporting its status; there the time until every pod is
// Running is reported too.
//
// Metrics: pods/s (benchPods over start to last binding), sync-s (start to
// the scheduler's informers synced, included in pods/s), and for hollow
// nodes running-s (start to the last pod Running). The etcd fsync setting
// of the harness is part of the name.
func BenchmarkSchedulingThroughput(b *testing.B) {
	cases := []struct {
		nodes  int
		hollow bool
	}{{1000, false}, {5000, false}, {1000, true}}
	for _, tc := range cases {
		kind := "api"
		if tc.hollow {
			kind = "hollow"
		}
		b.Run(fmt.Sprintf("nodes=%d/%s", tc.nodes, kind), func(b *testing.B) {
			api := harness.StartAPIServer(b)
			if tc.hollow {
				harness.StartHollowKubelets(b, api, tc.nodes, harness.WithReadyTimeout(5*time.Minute))
			} else {
				parallel(b, tc.nodes, func(i int) error {
					_, err := api.Client.Nodes().Create(context.Background(), benchNode(fmt.Sprintf("node-%05d", i)))
					return err
				})
			}
			// The pods, the schedulers and the watch carry over from one
			// run of the sub-benchmark to the next (-count).
			w := watchPods(b, api.Client)
			round := 0
			b.Run(fsyncName(api), func(b *testing.B) { benchScheduling(b, api, w, &round, tc.hollow) })
		})
	}
}

// fsyncName names the etcd durability the figures were measured with.
func fsyncName(api *harness.APIServer) string {
	if api.Fsync {
		return "etcd=fsync"
	}
	return "etcd=nofsync"
}

// benchScheduling runs rounds against a cluster with its nodes; round
// counts them over every run.
func benchScheduling(b *testing.B, api *harness.APIServer, w *podWatch, round *int, running bool) {
	fsync := "off (--unsafe-no-fsync, the harness's setting)"
	if api.Fsync {
		fsync = "on"
	}
	b.Logf("%d pending pods per round; embedded etcd fsync %s", benchPods, fsync)
	rounds := 0
	var elapsed, syncing, toRunning time.Duration
	for b.Loop() {
		*round++
		rounds++
		r := *round
		name := fmt.Sprintf("bench-%d", r)
		parallel(b, benchPods, func(i int) error {
			_, err := api.Client.Pods().Create(context.Background(), benchPod(fmt.Sprintf("r%d-%05d", r, i), name))
			return err
		})
		wantBound, wantRunning := w.bound.Load()+benchPods, w.running.Load()+benchPods
		var ready time.Time
		stopProfile := startWindowProfile(b, r)
		start := time.Now()
		harness.StartScheduler(b, api, harness.SchedulerOptions{Name: name, Configure: func(c *app.Config) {
			c.OnReady = func() { ready = time.Now() }
		}})
		harness.Poll(b, 5*time.Minute, "every pod is bound", func() (bool, string) {
			n := w.bound.Load()
			return n >= wantBound, fmt.Sprintf("%d of %d bound", n-wantBound+benchPods, benchPods)
		})
		elapsed += w.lastBound().Sub(start)
		syncing += ready.Sub(start)
		if running {
			harness.Poll(b, 5*time.Minute, "every pod is Running", func() (bool, string) {
				n := w.running.Load()
				return n >= wantRunning, fmt.Sprintf("%d of %d Running", n-wantRunning+benchPods, benchPods)
			})
			toRunning += w.lastRunning().Sub(start)
		}
		stopProfile()
	}
	b.ReportMetric(float64(benchPods*rounds)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(syncing.Seconds()/float64(rounds), "sync-s")
	if running {
		b.ReportMetric(toRunning.Seconds()/float64(rounds), "running-s")
	}
}

// startWindowProfile starts the -window-cpuprofile of the first round and
// returns what stops it.
func startWindowProfile(b *testing.B, round int) func() {
	if *windowProfile == "" || round != 1 {
		return func() {}
	}
	name := *windowProfile + "." + strings.NewReplacer("/", "_", "=", "-").Replace(b.Name())
	f, err := os.Create(filepath.Clean(name))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.Fatalf("-window-cpuprofile: %v (not with -cpuprofile)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
		b.Logf("CPU profile of the scheduling window: %s", name)
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
			Name: "app", Image: benchImage,
			Resources: &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "128Mi"}},
		}}},
	}
}

// podWatch counts pods going from unbound to bound and from another
// phase to Running, with the time of the latest of each.
type podWatch struct {
	bound, running     atomic.Int64
	boundAt, runningAt atomic.Int64 // UnixNano
}

func (w *podWatch) lastBound() time.Time   { return time.Unix(0, w.boundAt.Load()) }
func (w *podWatch) lastRunning() time.Time { return time.Unix(0, w.runningAt.Load()) }

func watchPods(b *testing.B, cs *clientset.Set) *podWatch {
	w := &podWatch{}
	inf := informer.New(cs.Pods(), informer.Options{})
	inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{UpdateFunc: func(old, p *corev1.Pod) {
		now := time.Now().UnixNano()
		if old.GetSpec().GetNodeName() == "" && p.GetSpec().GetNodeName() != "" {
			w.bound.Add(1)
			w.boundAt.Store(now)
		}
		if old.GetStatus().GetPhase() != "Running" && p.GetStatus().GetPhase() == "Running" {
			w.running.Add(1)
			w.runningAt.Store(now)
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inf.Run(ctx) })
	b.Cleanup(func() { cancel(); wg.Wait() })
	if !inf.WaitForSync(harness.Context(b, time.Minute)) {
		b.Fatal("pod informer did not sync")
	}
	return w
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
