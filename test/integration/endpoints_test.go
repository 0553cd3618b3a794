package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/retry"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/labels"
)

// endpointsState summarises a Service's Endpoints: sorted ready and
// not-ready pod names (the hollow nodes' fake IPAMs may hand two pods on
// two nodes one IP), and the ports.
func endpointsState(c *workloadCluster, t *testing.T, name string) (ready, notReady []string, ports string) {
	ep, err := c.api.Client.Endpoints().Get(harness.Context(t, waitTimeout), &metav1.GetOptions{Namespace: "default", Name: name})
	if err != nil {
		return nil, nil, err.Error()
	}
	var ps []string
	for _, ss := range ep.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			ready = append(ready, a.GetTargetRef().GetName())
		}
		for _, a := range ss.GetNotReadyAddresses() {
			notReady = append(notReady, a.GetTargetRef().GetName())
		}
		for _, p := range ss.GetPorts() {
			ps = append(ps, fmt.Sprintf("%s=%d/%s", p.GetName(), p.GetPort(), p.GetProtocol()))
		}
	}
	slices.Sort(ready)
	slices.Sort(notReady)
	slices.Sort(ps)
	return ready, notReady, strings.Join(slices.Compact(ps), ",")
}

// podNames are the names of the deployment's pods that have an IP, split
// by readiness.
func podNames(pods []*corev1.Pod, node string) (ready, notReady []string) {
	for _, p := range pods {
		ip := p.GetMetadata().GetName()
		if p.GetStatus().GetPodIp() == "" || p.GetMetadata().GetDeletionTimestamp() != nil || (node != "" && p.GetSpec().GetNodeName() != node) {
			continue
		}
		if countPods([]*corev1.Pod{p}, hollowImage).available == 1 {
			ready = append(ready, ip)
		} else {
			notReady = append(notReady, ip)
		}
	}
	slices.Sort(ready)
	slices.Sort(notReady)
	return ready, notReady
}

// TestEndpointsFollowPods runs the Endpoints controller with hollow
// kubelets: a Service's Endpoints list the deployment's pods as they become
// ready, with the named target port resolved, follow scaling down and up,
// and move the pods of a lost node to notReadyAddresses when the node
// lifecycle controller marks them not ready.
func TestEndpointsFollowPods(t *testing.T) {
	const grace = 15 * time.Second // the hollow kubelets renew their Leases every 10 s
	c := startWorkloadCluster(t, 1, func(cfg *app.Config) {
		cfg.Controllers = []string{"deployment", "replicaset", "endpoint", "nodelifecycle"}
		cfg.NodeMonitorGracePeriod = grace
		cfg.DefaultTolerationSeconds = 600 // the lost node's pods stay, not ready
	})
	lost := harness.StartHollowKubelets(t, c.api, 1, harness.WithHollowName("lost"), harness.WithHollowCapacity(hollowCapacity))
	ctx := harness.Context(t, 3*waitTimeout)
	pods := podCache(t, c.cluster, "default", nil)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})

	if _, err := c.api.Client.Services().Create(ctx, &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []*corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: structpb.NewStringValue("web")}}},
	}); err != nil {
		t.Fatal(err)
	}
	d := deployment("web", 4, hollowImage)
	d.Spec.Template.Spec.Containers[0].Ports = []*corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}
	if _, err := c.api.Client.Deployments().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	follows := func(what string, wantReady int) {
		t.Helper()
		harness.Poll(t, waitTimeout, what, func() (bool, string) {
			r, n, ports := endpointsState(c, t, "web")
			pr, pn := podNames(pods.Lister().ListNamespace("default", sel), "")
			ok := len(pr) == wantReady && slices.Equal(r, pr) && slices.Equal(n, pn) && (wantReady == 0 || ports == "http=8080/TCP")
			return ok, fmt.Sprintf("endpoints ready %v notReady %v ports %q; pods ready %v notReady %v", r, n, ports, pr, pn)
		})
	}
	follows("the 4 pods become ready endpoints on port 8080", 4)

	scale := func(n int32) {
		t.Helper()
		// The deployment controller writes the object's status meanwhile:
		// a conflict is retried from a fresh read, as any client does.
		err := retry.OnConflict(func() error {
			cur, err := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "web"})
			if err != nil {
				return err
			}
			cur.Spec.Replicas = proto.Int32(n)
			_, err = c.api.Client.Deployments().Update(ctx, cur)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	scale(1)
	follows("scaled down to 1", 1)
	scale(6)
	follows("scaled up to 6", 6)

	onLost, _ := podNames(pods.Lister().ListNamespace("default", sel), lost.Nodes[0])
	if len(onLost) == 0 {
		t.Fatalf("no pod landed on %s; the test needs some", lost.Nodes[0])
	}
	lost.Stop()
	harness.Poll(t, grace+waitTimeout, "the lost node's pods move to notReadyAddresses", func() (bool, string) {
		r, n, _ := endpointsState(c, t, "web")
		moved := len(n) == len(onLost)
		for _, ip := range onLost {
			moved = moved && slices.Contains(n, ip) && !slices.Contains(r, ip)
		}
		return moved && len(r) == 6-len(onLost), fmt.Sprintf("ready %v notReady %v; on the lost node %v", r, n, onLost)
	})

	if _, err := c.api.Client.Services().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: "web"}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the Endpoints go with the Service", func() (bool, string) {
		_, _, ports := endpointsState(c, t, "web")
		return strings.Contains(ports, "not found"), ports
	})
}
