package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Run's errors say what failed: which step, and for the kubeconfig which
// file.
func TestRunErrorsHaveContext(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	cfg := DefaultConfig()
	cfg.Kubeconfig = missing
	cfg.MetricsAddress = ""
	cfg.Registry = prometheus.NewRegistry()
	err := Run(t.Context(), cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "controller-manager: load kubeconfig") || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Run with a missing kubeconfig = %v; want it to say controller-manager: load kubeconfig and the path", err)
	}

	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Kubeconfig = kc
	// A registry that already has the client metrics refuses them again.
	cfg.Registry = prometheus.NewRegistry()
	cfg.Registry.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tugboat_client_requests_total", Help: "taken"}, []string{"method", "code"}))
	err = Run(t.Context(), cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "controller-manager: client metrics") {
		t.Fatalf("Run with the client metrics taken = %v; want it to say controller-manager: client metrics", err)
	}
}
