package harness

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/dns/app"
	"go.uber.org/zap"
)

// DNSOptions choose how a test DNS server runs.
type DNSOptions struct {
	// Upstreams are the resolvers it forwards to. Tests give a fake on
	// 127.0.0.1; when empty, one that never answers is used, so that no
	// query reaches the host's real resolver.
	Upstreams []string
	// Configure, when set, adjusts the configuration before it runs.
	Configure func(*app.Config)
}

// DNS is a cluster DNS server running in the test's process.
type DNS struct {
	// Addr is the 127.0.0.1 address it serves on, UDP and TCP.
	Addr string
	// Config is the configuration it runs with.
	Config app.Config
	// Registry holds its metrics.
	Registry *prometheus.Registry
}

// StartDNS runs the DNS server against api on 127.0.0.1 at a free port
// and waits until its informers have synced. It stops on t.Cleanup.
func StartDNS(t testing.TB, api *APIServer, opts DNSOptions) *DNS {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Kubeconfig = api.KubeconfigFor(t, DNSUser)
	cfg.MetricsAddress = ""
	cfg.ListenAddresses = []string{"127.0.0.1:0"}
	cfg.Upstreams = opts.Upstreams
	if len(cfg.Upstreams) == 0 {
		cfg.Upstreams = []string{"127.0.0.1:9"} // discard: nothing answers
	}
	cfg.Registry = prometheus.NewRegistry()
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	bound := make(chan string, 1)
	cfg.OnListen = func(addrs []string) { bound <- addrs[0] }
	var ready <-chan struct{}
	cfg.OnReady, ready = signalReady(cfg.OnReady)
	c := run(t, "dns", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })
	select {
	case <-ready:
	case err := <-c.done:
		c.done <- err
		t.Fatalf("dns exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("dns not ready within %v", StartTimeout)
	}
	return &DNS{Addr: <-bound, Config: cfg, Registry: cfg.Registry}
}
