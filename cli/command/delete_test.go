package command

import (
	"context"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// TestDeleteWaitsUntilGone deletes a pod on a node with a grace period:
// the pod stays, marked for deletion, until its node agent confirms, and
// tug delete returns once it is gone, not before.
func TestDeleteWaitsUntilGone(t *testing.T) {
	ns := namespace(t)
	cs := testClientset(t)
	ctx := context.Background()
	for _, name := range []string{"graceful", "lingering"} {
		pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: &corev1.PodSpec{NodeName: "node-a", Containers: []*corev1.Container{{Name: "sise", Image: "tugboat.local/sise:0.5.0"}}}}
		if _, err := cs.Pods().Create(ctx, pod); err != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
	}

	done := make(chan result, 1)
	go func() { done <- tug(t, "-n", ns, "delete", "pod", "graceful", "--grace-period=30") }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := cs.Pods().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "graceful"})
		if err != nil {
			t.Fatalf("get pod graceful: %v", err)
		}
		if p.GetMetadata().GetDeletionTimestamp() != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pod graceful not marked for deletion within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("tug delete returned while the pod still exists: exit %d %q %q", r.code, r.out, r.err)
	default:
	}
	// The node agent confirms: the pod goes.
	if _, err := cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: "graceful", GracePeriodSeconds: proto.Int32(0)}); err != nil {
		t.Fatalf("confirm deletion: %v", err)
	}
	select {
	case r := <-done:
		if r.code != 0 || r.out != "pod \"graceful\" deleted\n" {
			t.Errorf("delete: exit %d %q %q", r.code, r.out, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tug delete did not return within 30s of the pod being gone")
	}

	// Nobody confirms: the wait ends at --timeout.
	r := tug(t, "-n", ns, "delete", "pod", "lingering", "--grace-period=30", "--timeout=300ms")
	if r.code != 1 || r.err != "error: timed out after 300ms waiting for pod \"lingering\" to be deleted\n" {
		t.Errorf("delete past its timeout: exit %d %q", r.code, r.err)
	}
}

// testClientset is a typed client of the test apiserver.
func testClientset(t *testing.T) *clientset.Set {
	t.Helper()
	kc, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(context.Background(), kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return clientset.New(conn)
}
