package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/component/apiclient"
	"github.com/tugboat-sh/tugboat/component/observe"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/dns/answer"
	"github.com/tugboat-sh/tugboat/services/dns/forward"
	"github.com/tugboat-sh/tugboat/services/dns/publish"
	"github.com/tugboat-sh/tugboat/services/dns/server"
	"github.com/tugboat-sh/tugboat/services/dns/zone"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// publishPeriod is how often the published Service is checked even when
// no event says it changed.
const publishPeriod = time.Minute

// Run serves DNS until ctx ends.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ups, err := cfg.upstreams(log)
	if err != nil {
		return err
	}
	fwd, err := forward.New(ups, cfg.ForwardTimeout)
	if err != nil {
		return err
	}
	obs := observe.NewServer()
	if cfg.Registry != nil {
		obs.Registry = cfg.Registry
	}
	metrics, err := server.NewMetrics(obs.Registry)
	if err != nil {
		return err
	}
	conn, err := apiclient.Dial(ctx, obs, cfg.Kubeconfig, "dns")
	if err != nil {
		return err
	}
	defer conn.Close()
	cs := clientset.New(conn)

	index := zone.NewIndex(cfg.ClusterDomain)
	changed := make(chan struct{}, 1)
	svcInf, epInf := informers(cs, index, changed, log)
	obs.AddReadyCheck("informers", func(context.Context) error {
		if !svcInf.HasSynced() || !epInf.HasSynced() {
			return errors.New("informers have not synced")
		}
		return nil
	})

	cidr := netip.MustParsePrefix(cfg.ServiceCIDR)
	h := &server.Handler{
		Zone: index,
		Config: answer.Config{
			Domain:  index.Domain(),
			TTL:     uint32(cfg.TTL / time.Second),
			Reverse: []netip.Prefix{cidr.Masked()},
			Serial:  uint32(time.Now().Unix()),
		},
		Forward: fwd,
		Metrics: metrics,
		Log:     log,
	}
	srv, err := server.Listen(ctx, cfg.ListenAddresses, h)
	if err != nil {
		return err
	}
	defer srv.Close() // when the informers never synced, Serve never ran
	if cfg.OnListen != nil {
		cfg.OnListen(srv.Addrs())
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	g.Go(func() error { svcInf.Run(gctx); return nil })
	g.Go(func() error { epInf.Run(gctx); return nil })
	g.Go(func() error {
		if !svcInf.WaitForSync(gctx) || !epInf.WaitForSync(gctx) {
			return nil
		}
		log.Info("dns informers synced", zap.Int("names", index.Len()))
		if err := srv.Serve(gctx); err != nil {
			return err
		}
		return nil
	})
	g.Go(func() error {
		if !svcInf.WaitForSync(gctx) || !epInf.WaitForSync(gctx) {
			return nil
		}
		if cfg.OnReady != nil {
			cfg.OnReady()
		}
		return nil
	})
	if cfg.PublishService {
		addr, port := cfg.advertised()
		p := &publish.Publisher{Services: cs.Services(), Endpoints: cs.Endpoints(), Log: log,
			Spec: publish.Spec{ServiceIP: cfg.ServiceIP, Address: addr, Port: int32(port)}}
		g.Go(func() error { p.Run(gctx, changed, publishPeriod); return nil })
	}
	log.Info("dns starting", zap.String("apiserver", conn.Target()), zap.Strings("listen", srv.Addrs()),
		zap.String("domain", index.Domain()), zap.Strings("upstreams", fwd.Upstreams()), zap.Bool("publish", cfg.PublishService))
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	return nil
}

// informers returns the Service and Endpoints informers, feeding index
// and signalling changed when the published kube-dns objects change.
func informers(cs *clientset.Set, index *zone.Index, changed chan<- struct{}, log *zap.Logger) (*informer.Informer[*corev1.Service], *informer.Informer[*corev1.Endpoints]) {
	poke := func(ns, name string) {
		if ns == publish.Namespace && name == publish.Name {
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}
	opts := informer.Options{Logger: log.Named("informer")}
	svcInf := informer.New[*corev1.Service, *corev1.ServiceList, corev1.ServiceWatchEvent](cs.Services(), opts)
	svcInf.AddHandler(informer.HandlerFuncs[*corev1.Service]{
		AddFunc: index.SetService,
		UpdateFunc: func(_, s *corev1.Service) {
			index.SetService(s)
			poke(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName())
		},
		DeleteFunc: func(s *corev1.Service) {
			index.DeleteService(s)
			poke(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName())
		},
	})
	epInf := informer.New[*corev1.Endpoints, *corev1.EndpointsList, corev1.EndpointsWatchEvent](cs.Endpoints(), opts)
	epInf.AddHandler(informer.HandlerFuncs[*corev1.Endpoints]{
		AddFunc: index.SetEndpoints,
		UpdateFunc: func(_, e *corev1.Endpoints) {
			index.SetEndpoints(e)
			poke(e.GetMetadata().GetNamespace(), e.GetMetadata().GetName())
		},
		DeleteFunc: func(e *corev1.Endpoints) {
			index.DeleteEndpoints(e)
			poke(e.GetMetadata().GetNamespace(), e.GetMetadata().GetName())
		},
	})
	return svcInf, epInf
}
