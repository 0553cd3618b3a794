package integration

import (
	"fmt"
	"testing"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// TestControllerManagerLeaderElection runs two replicas on one Lease: the
// standby does nothing while the leader runs, and takes over when the
// leader stops.
func TestControllerManagerLeaderElection(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	elect := func(id string) func(*app.Config) {
		return func(cfg *app.Config) {
			cfg.Controllers = []string{"replicaset"}
			cfg.LeaderElect, cfg.Identity = true, id
			cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = 2*time.Second, 1500*time.Millisecond, 200*time.Millisecond
		}
	}
	a := harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: elect("cm-a")})
	b := harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: elect("cm-b"), Standby: true})
	harness.StartHollowKubelets(t, c.api, 1, harness.WithHollowCapacity(hollowCapacity))
	ctx := harness.Context(t, 2*waitTimeout)
	pods := podCache(t, c, "default", nil)
	holder := func() string {
		l, err := c.api.Client.Leases().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "tug-controller-manager"})
		if err != nil {
			return err.Error()
		}
		return l.GetSpec().GetHolderIdentity()
	}
	rs := func(name string) {
		t.Helper()
		if _, err := c.api.Client.ReplicaSets().Create(ctx, &appsv1.ReplicaSet{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: template(name, hollowImage)},
		}); err != nil {
			t.Fatal(err)
		}
		harness.Poll(t, waitTimeout, "replicaset "+name+" has 2 pods", func() (bool, string) {
			n := countPods(pods.Lister().ListNamespace("default", labels.SelectorFromSet(labels.Set{"app": name})), hollowImage)
			return n.available == 2, n.String()
		})
	}
	if h := holder(); h != "cm-a" {
		t.Fatalf("lease holder = %q, want cm-a", h)
	}
	select {
	case <-b.Leading:
		t.Fatal("the standby runs its controllers while cm-a leads")
	default:
	}
	rs("first")

	a.Stop()
	select {
	case <-b.Leading:
	case <-time.After(waitTimeout):
		t.Fatal("the standby did not take over within 30 s of the leader stopping")
	}
	if h := holder(); h != "cm-b" {
		t.Fatalf("lease holder = %q after the leader stopped, want cm-b", h)
	}
	rs("second")
	if v := metric(t, b, "tugboat_workqueue_adds_total", "replicaset"); v == 0 {
		t.Fatal("cm-b's replicaset queue counted no adds")
	}
}

// metric reads a controller-manager counter (or a histogram's count) for
// one controller.
func metric(t *testing.T, cm *harness.ControllerManager, name, controller string) float64 {
	t.Helper()
	families, err := cm.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if (lp.GetName() == "name" || lp.GetName() == "controller") && lp.GetValue() == controller {
					sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return sum
}

// TestControllerMetrics: every controller's queue and sync duration are
// exported, labelled with its name.
func TestControllerMetrics(t *testing.T) {
	c := startWorkloadCluster(t, 1, nil)
	pods := podCache(t, c.cluster, "default", nil)
	if _, err := c.api.Client.Deployments().Create(harness.Context(t, waitTimeout), deployment("metered", 2, hollowImage)); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "metered", hollowImage, 2)
	for _, ctl := range []string{"deployment", "replicaset"} {
		for _, name := range []string{"tugboat_workqueue_adds_total", "tugboat_workqueue_work_duration_seconds", "tugboat_controller_manager_sync_duration_seconds"} {
			if v := metric(t, c.cm, name, ctl); v == 0 {
				t.Errorf("%s{%s} = 0 after a rollout", name, ctl)
			}
		}
	}
	families, err := c.cm.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	depth := map[string]bool{}
	for _, mf := range families {
		if mf.GetName() == "tugboat_workqueue_depth" {
			for _, m := range mf.GetMetric() {
				depth[m.GetLabel()[0].GetValue()] = true
			}
		}
	}
	for _, ctl := range app.Names() {
		if ctl == "csrsigning" && c.cm.Config.ClusterSigningCertFile == "" {
			continue // idle without a signing CA: no queue
		}
		if !depth[ctl] {
			t.Errorf("no tugboat_workqueue_depth for controller %s (have %v)", ctl, fmt.Sprint(depth))
		}
	}
}
