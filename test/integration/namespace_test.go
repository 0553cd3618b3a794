package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// podLists is how many Pod List RPCs the controller-manager has made.
func podLists(t *testing.T, cm *harness.ControllerManager) float64 {
	t.Helper()
	families, err := cm.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range families {
		if mf.GetName() != "tugboat_client_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "method" && strings.HasSuffix(lp.GetValue(), "PodService/List") {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// TestNamespaceDeletionWaitsOnInformers: while a pod of a namespace being
// deleted is terminating, the namespace controller does not list pods
// from the apiserver (it used to, every second): the pod informer's
// delete event finishes the namespace.
func TestNamespaceDeletionWaitsOnInformers(t *testing.T) {
	c := startWorkloadCluster(t, 1, nil)
	ctx := harness.Context(t, 2*waitTimeout)
	cs := c.api.Client
	if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "lingering"}}); err != nil {
		t.Fatal(err)
	}
	// Bound to a node no kubelet runs: its graceful deletion never ends
	// by itself.
	if _, err := cs.Pods().Create(ctx, &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "lingering", Name: "stuck"},
		Spec: &corev1.PodSpec{NodeName: "ghost", Containers: []*corev1.Container{{Name: "app", Image: hollowImage}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Namespaces().Delete(ctx, &metav1.DeleteOptions{Name: "lingering"}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the namespace controller deletes pod stuck", func() (bool, string) {
		p, err := cs.Pods().Get(ctx, &metav1.GetOptions{Namespace: "lingering", Name: "stuck"})
		return err == nil && p.GetMetadata().GetDeletionTimestamp() != nil, fmt.Sprintf("%v", err)
	})
	base := podLists(t, c.cm)
	window := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(window) {
		if n := podLists(t, c.cm); n > base+1 {
			t.Fatalf("%v Pod List calls in %v while the namespace waited for a terminating pod; want none (informer events)", n-base, 3500*time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := cs.Namespaces().Get(ctx, &metav1.GetOptions{Name: "lingering"}); err != nil {
		t.Fatalf("namespace lingering went while its pod was terminating: %v", err)
	}
	if _, err := cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: "lingering", Name: "stuck", GracePeriodSeconds: proto.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "namespace lingering is gone once its pod is", func() (bool, string) {
		_, err := cs.Namespaces().Get(ctx, &metav1.GetOptions{Name: "lingering"})
		return status.Code(err) == codes.NotFound, fmt.Sprintf("%v", err)
	})
}
