package app

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/fake"

	"go.uber.org/zap"
)

func TestChoosePodCIDR(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct{ fromNode, want, err string }{
		{"", "10.244.0.0/24", ""},
		{"10.244.7.0/24", "10.244.7.0/24", ""},
		{"10.99.0.0/24", "", "not inside --cluster-cidr"},
		{"garbage", "", "garbage"},
	} {
		got, err := choosePodCIDR(tc.fromNode, cfg, zap.NewNop())
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("choosePodCIDR(%q) = %q, %v; want %q, error containing %q", tc.fromNode, got, err, tc.want, tc.err)
		}
	}
}

// An explicit PodCIDR (--pod-cidr, or tug up's Config) is used at once;
// without one the kubelet takes the block the node IPAM writes.
func TestNodePodCIDR(t *testing.T) {
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
	cs := clientset.New(conn)
	cfg := DefaultConfig()
	cfg.NodeName = "n1"
	if got, err := nodePodCIDR(t.Context(), cs, cfg, zap.NewNop()); err != nil || got != "10.244.0.0/24" {
		t.Fatalf("explicit PodCIDR: nodePodCIDR = %q, %v; want 10.244.0.0/24", got, err)
	}
	if _, err := srv.Nodes.Get("", "n1"); err == nil {
		t.Fatal("an explicit PodCIDR registered the node early")
	}
	cfg.PodCIDR = ""
	go func() {
		// The node IPAM: give the node a block once it is registered.
		for t.Context().Err() == nil {
			if n, err := srv.Nodes.Get("", "n1"); err == nil {
				n.Spec.PodCidr = "10.244.1.0/24"
				if _, err := srv.Nodes.Update(n); err == nil {
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if got, err := nodePodCIDR(t.Context(), cs, cfg, zap.NewNop()); err != nil || got != "10.244.1.0/24" {
		t.Fatalf("no PodCIDR: nodePodCIDR = %q, %v; want the IPAM's 10.244.1.0/24", got, err)
	}
}
