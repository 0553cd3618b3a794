package harness

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"go.uber.org/zap"
)

// ControllerManagerOptions choose how a test controller-manager runs.
type ControllerManagerOptions struct {
	// Configure, when set, adjusts the configuration before it runs
	// (controllers, node grace periods, a fake clock, leader election).
	Configure func(*app.Config)
	// Standby returns once it runs, without waiting for it to lead (a
	// second replica under leader election).
	Standby bool
}

// ControllerManager is a controller-manager running in the test's process.
type ControllerManager struct {
	// Config is the configuration it runs with.
	Config app.Config
	// Registry holds its metrics.
	Registry *prometheus.Registry
	// Stop stops it and waits until it has stopped (also done on cleanup).
	Stop func()
	// Leading is closed once its controllers run (it leads).
	Leading <-chan struct{}
}

// StartControllerManager runs the controller-manager against api and
// waits until its informers have synced and its controllers run. It stops
// on t.Cleanup.
func StartControllerManager(t testing.TB, api *APIServer, opts ControllerManagerOptions) *ControllerManager {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Kubeconfig = api.KubeconfigFor(t, pki.UserControllerManager)
	// csrsigning signs approved CSRs with the cluster CA.
	cfg.ClusterSigningCertFile, cfg.ClusterSigningKeyFile = api.ClusterSigningFiles()
	cfg.MetricsAddress = ""
	cfg.Registry = prometheus.NewRegistry()
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	var ready <-chan struct{}
	cfg.OnReady, ready = signalReady(cfg.OnReady)
	c := run(t, "controller-manager", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })
	cm := &ControllerManager{Config: cfg, Registry: cfg.Registry, Stop: func() { c.stop(t) }, Leading: ready}
	if opts.Standby {
		return cm
	}
	select {
	case <-ready:
	case err := <-c.done:
		c.done <- err
		t.Fatalf("controller-manager exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("controller-manager not ready within %v", StartTimeout)
	}
	return cm
}
