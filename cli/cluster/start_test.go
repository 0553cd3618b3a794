package cluster

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestWaitNodeReadyWatchesForAFreshReady runs waitNodeReady before the
// kubeconfig exists, then makes the node Ready with a stale heartbeat
// (a kubelet of an earlier run) and then a fresh one: it returns only
// after the fresh one.
func TestWaitNodeReadyWatchesForAFreshReady(t *testing.T) {
	addr := startAPIServer(t)
	c := DefaultConfig()
	c.DataDir = t.TempDir()
	since := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- waitNodeReady(ctx, c, since) }()

	if err := config.Write(c.internalConfig(), config.KubeconfigSpec{Server: "http://" + addr}); err != nil {
		t.Fatal(err)
	}
	kc, err := config.Load(c.internalConfig(), "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	nodes := clientset.New(conn).Nodes()
	n, err := nodes.Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: c.NodeName}})
	if err != nil {
		t.Fatalf("create node: %v", err)
	}
	setReady := func(n *corev1.Node, heartbeat time.Time) *corev1.Node {
		t.Helper()
		n.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", LastHeartbeatTime: timestamppb.New(heartbeat)}}}
		n, err := nodes.UpdateStatus(ctx, n)
		if err != nil {
			t.Fatalf("update node status: %v", err)
		}
		return n
	}
	n = setReady(n, since.Add(-time.Hour))
	// The stale Ready is stored; waitNodeReady, which may have seen it,
	// must still be waiting.
	got, err := nodes.Get(ctx, &metav1.GetOptions{Name: c.NodeName})
	if err != nil || got.GetMetadata().GetResourceVersion() != n.GetMetadata().GetResourceVersion() {
		t.Fatalf("get node: %v %v", got, err)
	}
	select {
	case err := <-done:
		t.Fatalf("waitNodeReady returned on a stale heartbeat: %v", err)
	default:
	}
	setReady(n, time.Now())
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("waitNodeReady: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waitNodeReady did not return within 30s of the node being Ready")
	}
}

func TestWaitNodeReadyEndsWithItsContext(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = t.TempDir() // no kubeconfig: the apiserver never comes up
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := waitNodeReady(ctx, c, time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waitNodeReady = %v, want %v", err, context.DeadlineExceeded)
	}
}

// startAPIServer runs an apiserver on embedded etcd for the test and
// returns its address.
func startAPIServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = addr
	cfg.DataDir = filepath.Join(t.TempDir(), "etcd")
	cfg.UnsafeNoFsync = true
	ready := make(chan struct{})
	cfg.OnReady = func(net.Addr) { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- apiserver.Run(ctx, cfg, zap.NewNop()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apiserver: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("apiserver: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("apiserver not ready after 60s")
	}
	return addr
}
