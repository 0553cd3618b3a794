package harness

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/services/scheduler/app"
	"go.uber.org/zap"
)

// SchedulerOptions choose how a test scheduler runs.
type SchedulerOptions struct {
	// Name is its scheduler name; "default-scheduler" when empty.
	Name string
	// Configure, when set, adjusts the configuration before it runs
	// (leader election, queue timings, parallelism).
	Configure func(*app.Config)
}

// Scheduler is a scheduler running in the test's process.
type Scheduler struct {
	// Config is the configuration it runs with.
	Config app.Config
	// Registry holds its metrics.
	Registry *prometheus.Registry
}

// StartScheduler runs the scheduler against api and waits until its
// informers have synced and it schedules. It stops on t.Cleanup.
func StartScheduler(t testing.TB, api *APIServer, opts SchedulerOptions) *Scheduler {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Kubeconfig = api.KubeconfigFor(t, pki.UserScheduler)
	cfg.MetricsAddress = ""
	if opts.Name != "" {
		cfg.SchedulerName = opts.Name
	}
	cfg.Registry = prometheus.NewRegistry()
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	var ready <-chan struct{}
	cfg.OnReady, ready = signalReady(cfg.OnReady)
	c := run(t, "scheduler", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })
	select {
	case <-ready:
	case err := <-c.done:
		c.done <- err
		t.Fatalf("scheduler exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("scheduler not ready within %v", StartTimeout)
	}
	return &Scheduler{Config: cfg, Registry: cfg.Registry}
}
