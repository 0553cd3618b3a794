package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/fake"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
)

func fakeAPI(t *testing.T) (*fake.Server, *clientset.Set) {
	t.Helper()
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, clientset.New(conn)
}

// A kubelet without --pod-cidr registers its Node without spec.podCIDR
// and takes the block the node IPAM then writes.
func TestWaitForPodCIDRTakesTheIPAMBlock(t *testing.T) {
	srv, cs := fakeAPI(t)
	type result struct {
		cidr string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		cidr, err := WaitForPodCIDR(t.Context(), cs, "n1", map[string]string{"a": "b"}, 10*time.Second, zap.NewNop())
		done <- result{cidr, err}
	}()
	var registered *corev1.Node
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, err := srv.Nodes.Get("", "n1"); err == nil {
			registered = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node was not registered while waiting for its pod CIDR")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if registered.GetSpec().GetPodCidr() != "" || registered.GetMetadata().GetLabels()["a"] != "b" {
		t.Fatalf("registered node: podCIDR %q, labels %v; want no podCIDR and label a=b", registered.GetSpec().GetPodCidr(), registered.GetMetadata().GetLabels())
	}
	// The IPAM's write.
	registered.Spec.PodCidr, registered.Spec.PodCidrs = "10.244.3.0/24", []string{"10.244.3.0/24"}
	if _, err := srv.Nodes.Update(registered); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.cidr != "10.244.3.0/24" {
			t.Fatalf("WaitForPodCIDR = %q, %v; want 10.244.3.0/24", r.cidr, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForPodCIDR did not return within 10s of the IPAM's write")
	}
}

// A Node that already has its block (a restart) needs no wait.
func TestWaitForPodCIDRExistingBlock(t *testing.T) {
	srv, cs := fakeAPI(t)
	if _, err := srv.Nodes.Create(&corev1.Node{Metadata: nodeMeta("n1"), Spec: &corev1.NodeSpec{PodCidr: "10.244.9.0/24"}}); err != nil {
		t.Fatal(err)
	}
	cidr, err := WaitForPodCIDR(t.Context(), cs, "n1", nil, 10*time.Second, zap.NewNop())
	if err != nil || cidr != "10.244.9.0/24" {
		t.Fatalf("WaitForPodCIDR = %q, %v; want the node's 10.244.9.0/24", cidr, err)
	}
}

// Without an IPAM the wait ends at its deadline with an error saying so.
func TestWaitForPodCIDRTimesOut(t *testing.T) {
	_, cs := fakeAPI(t)
	start := time.Now()
	_, err := WaitForPodCIDR(context.Background(), cs, "n1", nil, 300*time.Millisecond, zap.NewNop())
	if !errors.Is(err, ErrNoPodCIDR) {
		t.Fatalf("WaitForPodCIDR with no IPAM = %v, want ErrNoPodCIDR", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the 300ms wait took %v", d)
	}
}

func nodeMeta(name string) *metav1.ObjectMeta { return &metav1.ObjectMeta{Name: name} }
