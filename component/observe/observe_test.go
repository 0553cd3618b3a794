package observe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// serve starts s on a free loopback port and returns its base URL.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, "127.0.0.1:0", zap.NewNop(), func(a net.Addr) { bound <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	select {
	case a := <-bound:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("Serve ended before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not listen within 10s")
	}
	return ""
}

func TestHealthAndReadiness(t *testing.T) {
	s := NewServer()
	base := serve(t, s)

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok" {
		t.Fatalf("/healthz with no checks = %d %q, want 200 ok", code, body)
	}

	var notReady = errors.New("cache not synced")
	s.AddReadyCheck("informers", func(context.Context) error { return notReady })
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with a failing readiness check = %d, want 200 (readiness is not liveness)", code)
	}
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "[-]informers failed: cache not synced") {
		t.Errorf("/readyz = %d %q, want 503 naming the informers check", code, body)
	}

	s.AddHealthCheck("etcd", func(context.Context) error { return errors.New("no leader") })
	code, body = get(t, base+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "etcd failed: no leader") {
		t.Errorf("/healthz = %d %q, want 503 naming the etcd check", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "etcd failed") {
		t.Errorf("/readyz = %d %q, want 503 including the liveness check", code, body)
	}
}

func TestMetricsIncludeGRPCAndRuntime(t *testing.T) {
	s := NewServer()
	m := s.GRPCServerMetrics("demo")
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, health.NewServer())
	m.InitializeMetrics(gs)
	base := serve(t, s)
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		"go_goroutines",
		"process_start_time_seconds",
		`tugboat_demo_grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 0`,
		`tugboat_demo_grpc_server_handling_seconds_bucket{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary",le="0.0005"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestServeEmptyAddressWaitsForContext(t *testing.T) {
	s := NewServer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, "", zap.NewNop(), nil) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestServeBadAddress(t *testing.T) {
	err := NewServer().Serve(context.Background(), "127.0.0.1:notaport", zap.NewNop(), nil)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:notaport") {
		t.Fatalf("Serve on a bad address = %v, want an error naming the address", err)
	}
}
