package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"k8s.io/apimachinery/pkg/labels"
)

// TestNodeLostPodsReplaced loses one of three nodes mid-way through a
// deployment's life: the node goes Ready=Unknown with the unreachable
// NoExecute taint, and its pods are replaced on the healthy nodes within
// the toleration + 15 s.
func TestNodeLostPodsReplaced(t *testing.T) {
	// The hollow kubelets renew their Leases every 10 s: the grace period
	// must outlast that.
	const grace, toleration = 15 * time.Second, 2 * time.Second
	c := startWorkloadCluster(t, 2, func(cfg *app.Config) {
		cfg.NodeMonitorGracePeriod = grace
		cfg.DefaultTolerationSeconds = int(toleration / time.Second)
	})
	// The node to lose: a kubelet of its own.
	lost := harness.StartHollowKubelets(t, c.api, 1, harness.WithHollowName("doomed"), harness.WithHollowCapacity(hollowCapacity))
	ctx := harness.Context(t, 2*waitTimeout)
	pods := podCache(t, c.cluster, "default", nil)
	if _, err := c.api.Client.Deployments().Create(ctx, deployment("survivor", 6, hollowImage)); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "survivor", hollowImage, 6)
	sel := labels.SelectorFromSet(labels.Set{"app": "survivor"})
	var onLost []string
	for _, p := range pods.Lister().ListNamespace("default", sel) {
		if p.GetSpec().GetNodeName() == lost.Nodes[0] {
			onLost = append(onLost, p.GetMetadata().GetName())
		}
	}
	if len(onLost) == 0 {
		t.Fatalf("no pod of the deployment landed on %s; the test needs some", lost.Nodes[0])
	}

	lost.Stop()
	stopped := time.Now()
	harness.Poll(t, grace+toleration+15*time.Second, "the lost node's pods are replaced on healthy nodes", func() (bool, string) {
		ps := pods.Lister().ListNamespace("default", sel)
		healthy := 0
		for _, p := range ps {
			if p.GetMetadata().GetDeletionTimestamp() == nil && p.GetSpec().GetNodeName() != lost.Nodes[0] && countPods([]*corev1.Pod{p}, hollowImage).available == 1 {
				healthy++
			}
		}
		return healthy == 6, fmt.Sprintf("%d of 6 available on healthy nodes", healthy)
	})
	took := time.Since(stopped)
	if limit := grace + toleration + 15*time.Second; took > limit {
		t.Fatalf("replacement took %v, more than grace + toleration + 15 s = %v", took, limit)
	}
	n, err := c.api.Client.Nodes().Get(ctx, &metav1.GetOptions{Name: lost.Nodes[0]})
	if err != nil {
		t.Fatal(err)
	}
	tainted := slices.ContainsFunc(n.GetSpec().GetTaints(), func(tt *corev1.Taint) bool {
		return tt.GetKey() == "node.kubernetes.io/unreachable" && tt.GetEffect() == "NoExecute"
	})
	var ready string
	for _, cond := range n.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" {
			ready = cond.GetStatus()
		}
	}
	if !tainted || ready != "Unknown" {
		t.Fatalf("lost node: Ready=%s, taints %v; want Ready=Unknown and the unreachable NoExecute taint", ready, n.GetSpec().GetTaints())
	}
	t.Logf("pods on the lost node (%s) replaced %v after it stopped", strings.Join(onLost, ", "), took.Round(100*time.Millisecond))
}

// TestNodeIPAM: nodes registered without a podCIDR get distinct /24s of
// the cluster CIDR; one registered with its own keeps it.
func TestNodeIPAM(t *testing.T) {
	api := harness.StartAPIServer(t)
	harness.StartControllerManager(t, api, harness.ControllerManagerOptions{Configure: func(cfg *app.Config) {
		cfg.Controllers = []string{"nodeipam"}
		cfg.ClusterCIDR = "10.244.0.0/16"
	}})
	ctx := harness.Context(t, waitTimeout)
	mk := func(name, cidr string) {
		if _, err := api.Client.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name}, Spec: &corev1.NodeSpec{PodCidr: cidr}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("own", "10.244.0.0/24")
	mk("n1", "")
	mk("n2", "")
	harness.Poll(t, waitTimeout, "n1 and n2 have distinct pod CIDRs other than own's", func() (bool, string) {
		got := map[string]string{}
		for _, name := range []string{"own", "n1", "n2"} {
			n, err := api.Client.Nodes().Get(ctx, &metav1.GetOptions{Name: name})
			if err != nil {
				return false, err.Error()
			}
			got[name] = n.GetSpec().GetPodCidr()
		}
		ok := got["own"] == "10.244.0.0/24" && got["n1"] != "" && got["n2"] != "" && got["n1"] != got["n2"] &&
			got["n1"] != got["own"] && got["n2"] != got["own"] && strings.HasPrefix(got["n1"], "10.244.") && strings.HasSuffix(got["n1"], "/24")
		return ok, fmt.Sprint(got)
	})
}
