package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/leader"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/component/apiclient"
	"github.com/tugboat-sh/tugboat/component/observe"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Run runs the controllers until ctx ends. With leader election they run
// only while this replica leads, and Run returns leader.ErrLeadershipLost
// when it stops leading, so that the process restarts rather than run two
// sets of controllers.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("controller-manager: %w", err)
	}
	obs := observe.NewServer()
	if cfg.Registry != nil {
		obs.Registry = cfg.Registry
	}
	conn, err := apiclient.Dial(ctx, obs, cfg.Kubeconfig, "controller_manager")
	if err != nil {
		return fmt.Errorf("controller-manager: %w", err)
	}
	defer conn.Close()
	cs := clientset.New(conn)

	identity := cfg.Identity
	if identity == "" {
		identity = leader.DefaultIdentity()
	}
	metrics, err := controller.NewMetrics(obs.Registry)
	if err != nil {
		return fmt.Errorf("controller-manager: controller metrics: %w", err)
	}
	inf := newInformers(cs, log)
	d := deps{cfg: cfg, cs: cs, inf: inf, metrics: metrics, log: log,
		events: record.New(cs.Events(), "controller-manager", "", log.Named("events"))}
	loops, err := build(d)
	if err != nil {
		return fmt.Errorf("controller-manager: %w", err)
	}
	obs.AddReadyCheck("informers", inf.synced)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	g.Go(func() error { inf.run(gctx); return nil })
	g.Go(func() error { d.events.Run(gctx); return nil })
	start := func(lctx context.Context) { runLoops(lctx, cfg, inf, loops, log) }
	if cfg.LeaderElect {
		g.Go(func() error { return lead(gctx, cfg, cs, identity, start, log) })
	} else {
		g.Go(func() error { start(gctx); return nil })
	}
	log.Info("controller-manager starting", zap.String("apiserver", conn.Target()), zap.Strings("controllers", names(loops)),
		zap.Bool("leaderElect", cfg.LeaderElect), zap.String("identity", identity))
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// runLoops waits for the informers, then runs every controller until ctx
// ends.
func runLoops(ctx context.Context, cfg Config, inf *informers, loops []loop, log *zap.Logger) {
	if !inf.waitForSync(ctx) {
		return
	}
	log.Info("controllers started", zap.Strings("controllers", names(loops)))
	if cfg.OnReady != nil {
		cfg.OnReady()
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(func() { l.run.Run(ctx, cfg.Workers) })
	}
	wg.Wait()
}

// lead campaigns for the lease and runs the controllers while it leads.
// Losing the lease is an error, which Run returns.
func lead(ctx context.Context, cfg Config, cs *clientset.Set, identity string, start func(context.Context), log *zap.Logger) error {
	err := leader.Run(ctx, leader.Config{
		Client:           cs.Leases(),
		Namespace:        cfg.LeaseNamespace,
		Name:             cfg.LeaseName,
		Identity:         identity,
		LeaseDuration:    cfg.LeaseDuration,
		RenewDeadline:    cfg.RenewDeadline,
		RetryPeriod:      cfg.RetryPeriod,
		ReleaseOnCancel:  true,
		OnStartedLeading: start,
		OnNewLeader:      func(id string) { log.Info("controller-manager leader observed", zap.String("leader", id)) },
		Logger:           log.Named("leader"),
	})
	if err != nil {
		return fmt.Errorf("controller-manager: %w", err)
	}
	return nil
}
