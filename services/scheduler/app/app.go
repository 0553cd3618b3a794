package app

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/leader"
	"github.com/tugboat-sh/tugboat/component/apiclient"
	"github.com/tugboat-sh/tugboat/component/observe"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Run schedules pods until ctx ends. With leader election it schedules
// only while it leads, and returns leader.ErrLeadershipLost when it stops
// leading, so that the process restarts rather than run two loops.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	obs := observe.NewServer()
	if cfg.Registry != nil {
		obs.Registry = cfg.Registry
	}
	conn, err := apiclient.Dial(ctx, obs, cfg.Kubeconfig, "scheduler")
	if err != nil {
		return err
	}
	defer conn.Close()
	cs := clientset.New(conn)

	identity := cfg.Identity
	if identity == "" {
		identity = leader.DefaultIdentity()
	}
	s, err := newScheduler(cfg, cs, obs.Registry, identity, log)
	if err != nil {
		return err
	}
	obs.AddReadyCheck("informers", s.synced)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	g.Go(func() error { s.watch(gctx); return nil })
	if cfg.LeaderElect {
		g.Go(func() error { return lead(gctx, cfg, cs, identity, s, log) })
	} else {
		g.Go(func() error { s.run(gctx); return nil })
	}
	log.Info("scheduler starting", zap.String("apiserver", conn.Target()), zap.String("schedulerName", cfg.SchedulerName),
		zap.Bool("leaderElect", cfg.LeaderElect), zap.String("identity", identity))
	err = g.Wait()
	s.inflight.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// lead campaigns for the lease and runs the scheduling loop while it
// leads. Losing the lease is an error, which Run returns.
func lead(ctx context.Context, cfg Config, cs *clientset.Set, identity string, s *scheduler, log *zap.Logger) error {
	err := leader.Run(ctx, leader.Config{
		Client:           cs.Leases(),
		Namespace:        cfg.LeaseNamespace,
		Name:             cfg.LeaseName,
		Identity:         identity,
		LeaseDuration:    cfg.LeaseDuration,
		RenewDeadline:    cfg.RenewDeadline,
		RetryPeriod:      cfg.RetryPeriod,
		ReleaseOnCancel:  true,
		OnStartedLeading: s.run,
		OnNewLeader:      func(id string) { log.Info("scheduler leader observed", zap.String("leader", id)) },
		Logger:           log.Named("leader"),
	})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	return nil
}
