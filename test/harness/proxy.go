package harness

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/services/proxy/app"
	"go.uber.org/zap"
)

// ProxyOptions choose how a test proxy runs. It programs the real
// nftables of the test's network namespace: the caller needs root and
// must hold the real-node lock.
type ProxyOptions struct {
	// Table is its nftables table; required, so that a test never touches
	// a running cluster's table.
	Table string
	// Configure, when set, adjusts the configuration before it runs.
	Configure func(*app.Config)
}

// Proxy is a proxy running in the test's process.
type Proxy struct {
	Config   app.Config
	Registry *prometheus.Registry
}

// StartProxy runs the proxy against api and waits for its first full
// sync. On t.Cleanup it stops and then runs it again with Cleanup, which
// removes its table, and the host's route_localnet is put back as it was.
func StartProxy(t testing.TB, api *APIServer, opts ProxyOptions) *Proxy {
	t.Helper()
	if opts.Table == "" {
		t.Fatal("StartProxy: ProxyOptions.Table is required")
	}
	cfg := app.DefaultConfig()
	cfg.Kubeconfig = api.KubeconfigFor(t, pki.UserProxy)
	cfg.MetricsAddress = ""
	cfg.Table = opts.Table
	cfg.MinSyncPeriod = 10 * time.Millisecond
	cfg.Registry = prometheus.NewRegistry()
	cfg.StateDir = t.TempDir()
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	// The proxy sets route_localnet on the host; whatever its --cleanup
	// does, the host gets its own value back after the test (registered
	// first, so it runs last).
	restoreSysctl(t, routeLocalnet)
	t.Cleanup(func() {
		clean := cfg
		clean.Cleanup = true
		if err := app.Run(context.Background(), clean, zap.NewNop()); err != nil {
			t.Errorf("proxy --cleanup: %v", err)
		}
	})
	var ready <-chan struct{}
	cfg.OnReady, ready = signalReady(cfg.OnReady)
	c := run(t, "proxy", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })
	select {
	case <-ready:
	case err := <-c.done:
		c.done <- err
		t.Fatalf("proxy exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("proxy not ready within %v", StartTimeout)
	}
	return &Proxy{Config: cfg, Registry: cfg.Registry}
}

// routeLocalnet is the sysctl the proxy sets for localhost NodePorts.
const routeLocalnet = "/proc/sys/net/ipv4/conf/all/route_localnet"

// restoreSysctl records the sysctl file's value now and writes it back on
// t.Cleanup.
func restoreSysctl(t testing.TB, path string) {
	t.Helper()
	prev, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, prev, 0o644); err != nil {
			t.Errorf("restore %s to %q: %v", path, strings.TrimSpace(string(prev)), err)
		}
	})
}
