package app

import (
	"context"
	"errors"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/component/apiclient"
	"github.com/tugboat-sh/tugboat/component/observe"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/proxy/nft"
	"github.com/tugboat-sh/tugboat/services/proxy/runner"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Run proxies Services until ctx ends. The table stays when it returns,
// so that traffic keeps flowing while the proxy restarts; with
// cfg.Cleanup it only removes the table and puts back route_localnet if
// the proxy changed it.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	table, err := nft.New(cfg.Table, 0)
	if err != nil {
		return err
	}
	if cfg.Cleanup {
		if err := table.Delete(); err != nil {
			return err
		}
		log.Info("proxy table removed", zap.String("table", cfg.Table))
		restored, err := restoreLocalnet(routeLocalnet, cfg.StateDir)
		if err != nil {
			return err
		}
		if restored {
			log.Info("route_localnet restored", zap.String("stateDir", cfg.StateDir))
		}
		return nil
	}
	rc, _ := cfg.rules()
	if cfg.LocalhostNodePorts {
		if err := enableLocalnet(routeLocalnet, cfg.StateDir); err != nil {
			return err
		}
	}

	obs := observe.NewServer()
	if cfg.Registry != nil {
		obs.Registry = cfg.Registry
	}
	m, err := newMetrics(obs.Registry)
	if err != nil {
		return err
	}
	conn, err := apiclient.Dial(ctx, obs, cfg.Kubeconfig, "proxy")
	if err != nil {
		return err
	}
	defer conn.Close()
	cs := clientset.New(conn)

	services := informer.New(cs.Services(), informer.Options{Logger: log.Named("services")})
	endpoints := informer.New(cs.Endpoints(), informer.Options{Logger: log.Named("endpoints")})
	p := newProxier(rc, table, m, log)
	p.services, p.endpoints = services.Lister(), endpoints.Lister()
	p.onReady = cfg.OnReady
	services.AddHandler(informer.HandlerFuncs[*corev1.Service]{
		AddFunc:    func(s *corev1.Service) { p.mark(s) },
		UpdateFunc: func(_, s *corev1.Service) { p.mark(s) },
		DeleteFunc: func(s *corev1.Service) { p.mark(s) },
	})
	endpoints.AddHandler(informer.HandlerFuncs[*corev1.Endpoints]{
		AddFunc:    func(e *corev1.Endpoints) { p.mark(e) },
		UpdateFunc: func(_, e *corev1.Endpoints) { p.mark(e) },
		DeleteFunc: func(e *corev1.Endpoints) { p.mark(e) },
	})
	r := runner.New(p.sync, cfg.MinSyncPeriod, cfg.SyncPeriod)
	p.trigger = r.Trigger
	obs.AddReadyCheck("synced", func(context.Context) error {
		if !p.ready.Load() {
			return errors.New("first full sync not done")
		}
		return nil
	})

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	g.Go(func() error { services.Run(gctx); return nil })
	g.Go(func() error { endpoints.Run(gctx); return nil })
	g.Go(func() error {
		if !services.WaitForSync(gctx) || !endpoints.WaitForSync(gctx) {
			return nil
		}
		r.Run(gctx)
		return nil
	})
	log.Info("proxy starting", zap.String("apiserver", conn.Target()), zap.String("node", cfg.nodeName()),
		zap.String("table", cfg.Table), zap.String("serviceCIDR", cfg.ServiceCIDR), zap.String("clusterCIDR", cfg.ClusterCIDR),
		zap.Strings("nodePortAddresses", cfg.NodePortAddresses))
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}
