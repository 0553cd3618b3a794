package kubelet_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet/kubelettest"
)

func TestPoolSharesOneConnectionPerAddress(t *testing.T) {
	k1, k2 := kubelettest.Start(t), kubelettest.Start(t)
	k1.SetChunks("from k1")
	reg := prometheus.NewRegistry()
	p := kubelet.NewPool(kubelet.Options{Registerer: reg})
	defer p.Close()

	for i, addr := range []string{k1.Addr, k1.Addr, k2.Addr} {
		c, err := p.Client(addr)
		if err != nil {
			t.Fatalf("Client(%s): %v", addr, err)
		}
		stream, err := c.Log(context.Background(), &corev1.PodLogOptions{Name: "web"})
		if err != nil {
			t.Fatalf("call %d: Log: %v", i, err)
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("call %d: %v", i, err)
				}
				break
			}
		}
	}
	if n := len(k1.LogRequests()); n != 2 {
		t.Fatalf("k1 got %d requests, want 2", n)
	}
	if p.Len() != 2 {
		t.Fatalf("pool holds %d connections, want 2 (one per address)", p.Len())
	}
	if v := gaugeValue(t, reg); v != 2 {
		t.Fatalf("tugboat_apiserver_kubelet_connections = %v, want 2", v)
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := p.Client(k1.Addr); !errors.Is(err, kubelet.ErrClosed) {
		t.Fatalf("Client after Close = %v, want ErrClosed", err)
	}
	if p.Len() != 0 {
		t.Fatalf("pool holds %d connections after Close", p.Len())
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// gaugeValue reads tugboat_apiserver_kubelet_connections from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "tugboat_apiserver_kubelet_connections" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("tugboat_apiserver_kubelet_connections is not registered")
	return 0
}
