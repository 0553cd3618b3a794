package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// BenchmarkRollingUpdate rolls a Deployment of 1,000 replicas (maxSurge
// and maxUnavailable 25%) from one image to another over 100 hollow
// nodes, with the apiserver, scheduler, controller-manager and kubelets in
// one process. It checks the rollout invariant on every pod watch event
// (available >= 750, active <= 1,250) and fails on a breach. Metrics:
// rollout-s (the update sent to every pod on the new image and available
// and the status saying so), events (pod events checked), create-s (the
// first rollout from nothing, for scale).
func BenchmarkRollingUpdate(b *testing.B) {
	const replicas, nodes = 1000, 100
	api := harness.StartAPIServer(b)
	harness.StartScheduler(b, api, harness.SchedulerOptions{})
	harness.StartControllerManager(b, api, harness.ControllerManagerOptions{})
	harness.StartHollowKubelets(b, api, nodes, harness.WithHollowCapacity("cpu=16,memory=64Gi,pods=30"), harness.WithReadyTimeout(5*time.Minute))

	chk := &rolloutCheck{sel: labels.SelectorFromSet(labels.Set{"app": "big"}), min: replicas * 3 / 4, max: replicas * 5 / 4}
	pods := informer.New(api.Client.Pods(), informer.Options{Namespace: "default"})
	h := func(*corev1.Pod) { chk.check(pods.Lister()) }
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{AddFunc: h, UpdateFunc: func(_, p *corev1.Pod) { h(p) }, DeleteFunc: h})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { pods.Run(ctx) })
	b.Cleanup(func() { cancel(); wg.Wait() })
	pods.WaitForSync(ctx)

	start := time.Now()
	if _, err := api.Client.Deployments().Create(ctx, deployment("big", replicas, "tugboat.local/app:0")); err != nil {
		b.Fatal(err)
	}
	waitRolledOut(b, api, pods, "big", "tugboat.local/app:0", replicas)
	created := time.Since(start)

	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		image := fmt.Sprintf("tugboat.local/app:%d", i+1)
		d, err := api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "big"})
		if err != nil {
			b.Fatal(err)
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		chk.arm(true)
		start := time.Now()
		if _, err := api.Client.Deployments().Update(ctx, d); err != nil {
			b.Fatal(err)
		}
		waitRolledOut(b, api, pods, "big", image, replicas)
		total += time.Since(start)
		chk.arm(false)
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), "rollout-s")
	b.ReportMetric(float64(chk.events)/float64(b.N), "events")
	b.ReportMetric(created.Seconds(), "create-s")
	if len(chk.violations) > 0 {
		b.Fatalf("rollout invariant broken %d times over %d events; first: %s", len(chk.violations), chk.events, chk.violations[0])
	}
}

// waitRolledOut polls the pod cache and the Deployment until every
// replica runs image and is available.
func waitRolledOut(b *testing.B, api *harness.APIServer, pods *informer.Informer[*corev1.Pod], name, image string, replicas int) {
	b.Helper()
	sel := labels.SelectorFromSet(labels.Set{"app": name})
	harness.Poll(b, 10*time.Minute, "deployment "+name+" rolled out to "+image, func() (bool, string) {
		n := countPods(pods.Lister().ListNamespace("default", sel), image)
		if n.available != replicas || n.onImage != replicas || n.active != replicas {
			return false, n.String()
		}
		d, err := api.Client.Deployments().Get(context.Background(), &metav1.GetOptions{Namespace: "default", Name: name})
		if err != nil {
			return false, err.Error()
		}
		st := d.GetStatus()
		return st.GetUpdatedReplicas() == int32(replicas) && st.GetAvailableReplicas() == int32(replicas) && st.GetReplicas() == int32(replicas), st.String()
	})
}

// BenchmarkReplicaSetSync measures the ReplicaSet controller's throughput
// alone: a ReplicaSet of 2,000 replicas and no nodes, timed from its
// create to all 2,000 pods existing and counted in its status. Metrics:
// pods/s, and syncs/s (the controller's syncs over that window).
func BenchmarkReplicaSetSync(b *testing.B) {
	const replicas = 2000
	api := harness.StartAPIServer(b)
	cm := harness.StartControllerManager(b, api, harness.ControllerManagerOptions{})
	ctx := context.Background()
	b.ResetTimer()
	var total time.Duration
	var syncs float64
	for i := range b.N {
		name := fmt.Sprintf("rs-%d", i)
		before := syncCount(b, cm, "replicaset")
		start := time.Now()
		if _, err := api.Client.ReplicaSets().Create(ctx, &appsv1.ReplicaSet{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(replicas), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: template(name, hollowImage)},
		}); err != nil {
			b.Fatal(err)
		}
		harness.Poll(b, 5*time.Minute, name+" has its pods", func() (bool, string) {
			rs, err := api.Client.ReplicaSets().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: name})
			if err != nil {
				return false, err.Error()
			}
			return rs.GetStatus().GetReplicas() == replicas, rs.GetStatus().String()
		})
		total += time.Since(start)
		syncs += syncCount(b, cm, "replicaset") - before
	}
	b.StopTimer()
	b.ReportMetric(float64(replicas*b.N)/total.Seconds(), "pods/s")
	b.ReportMetric(syncs/total.Seconds(), "syncs/s")
}

func syncCount(b *testing.B, cm *harness.ControllerManager, controller string) float64 {
	families, err := cm.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != "tugboat_controller_manager_sync_duration_seconds" {
			continue
		}
		var n float64
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "controller" && lp.GetValue() == controller {
					n += float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		return n
	}
	return 0
}
