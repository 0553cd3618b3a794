package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/component/observe"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/services/kubelet/node"
	"github.com/tugboat-sh/tugboat/services/kubelet/pods"
	"github.com/tugboat-sh/tugboat/services/kubelet/probe"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// hollowRelist is the runtime relist period of hollow nodes unless set:
// their containers change only when the kubelet changes them.
const hollowRelist = 10 * time.Second

// runHollow runs cfg.HollowNodes kubelets named <node-name>-hollow-<i> (or,
// with cfg.FakeRuntime, one named <node-name>), each over its own
// in-memory fake runtime, sharing one apiserver connection.
// They register, renew leases, run pods (as fake containers) and report
// status like real nodes; they serve no logs or exec, but for the one
// node of cfg.FakeRuntime, which writes its containers' logs and serves
// the kubelet API on --port as a real node does (kubeconfigCA is then its
// default client CA).
func runHollow(ctx context.Context, cfg Config, cs *clientset.Set, kubeconfigCA []byte, obs *observe.Server, log *zap.Logger) error {
	capacity, err := parseLabels(cfg.HollowCapacity)
	if err != nil {
		return fmt.Errorf("--hollow-capacity: %w", err)
	}
	relist := cfg.RelistPeriod
	if relist <= 0 {
		relist = hollowRelist
	}
	rec := record.New(cs.Events(), "kubelet", cfg.NodeName+"-hollow", log.Named("events"))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { rec.Run(gctx); return nil })
	// One set of secret and config map informers serves every hollow node.
	sources := pods.NewSources(cs, log.Named("sources"))
	if err := sources.Register(obs.Registry); err != nil {
		return err
	}
	names := hollowNames(cfg)
	for i, name := range names {
		// Hollow pod IPs are never routed: the /24s may repeat past 256 nodes.
		podCIDR := fmt.Sprintf("10.244.%d.0/24", i%256)
		fake, err := fakeruntime.New(fakeruntime.Config{PodCIDR: podCIDR, DiscardLogs: !cfg.FakeRuntime, Images: []string{cfg.SandboxImage}})
		if err != nil {
			return fmt.Errorf("hollow node %s: %w", name, err)
		}
		for image, b := range cfg.HollowBehaviors {
			if err := fake.SetBehavior(image, b); err != nil {
				return fmt.Errorf("hollow node %s: behaviour of %q: %w", name, image, err)
			}
		}
		if cfg.HollowRuntimes != nil {
			cfg.HollowRuntimes(name, fake)
		}
		lis, endpoint, dial := fakeruntime.ListenMemory()
		g.Go(func() error { defer fake.Close(); return fake.Serve(gctx, lis) })
		rt, ver, err := cri.Dial(ctx, endpoint, 10*time.Second, grpc.WithContextDialer(dial))
		if err != nil {
			return fmt.Errorf("hollow node %s: %w", name, err)
		}
		var reg prometheus.Registerer = obs.Registry
		if i > 0 {
			reg = nil // one node's metrics stand for all
		}
		mgr, err := pods.New(pods.Config{
			NodeName: name, NodeIP: cfg.NodeIP, LogDir: cfg.RootDir + "/hollow/" + name,
			RuntimeName: ver.GetRuntimeName(), RelistPeriod: relist, Workers: 2, Registerer: reg,
			// Hollow pods have no network to probe: every probe passes.
			Prober:     probe.Pass{},
			VolumeDir:  cfg.RootDir + "/hollow/" + name + "/volumes",
			Mounter:    volume.Dirs{},
			Sources:    sources,
			ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain, ResolvConf: cfg.ResolvConf,
		}, cs, rt, rec, log.Named("pods").With(zap.String("node", name)))
		if err != nil {
			return err
		}
		var port int
		if cfg.FakeRuntime {
			if port, err = serveStreams(gctx, g, cfg, kubeconfigCA, rt, mgr, obs, log); err != nil {
				return err
			}
		}
		agent := node.New(node.Config{
			Name: name, IP: cfg.NodeIP, Port: int32(port), PodCIDR: podCIDR,
			Labels:   nodeLabels(name, map[string]string{"tugboat.io/hollow": "true"}),
			Capacity: capacity,
			Info:     &corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: goarch, OsImage: "hollow", KubeletVersion: Version, ContainerRuntimeVersion: ver.GetRuntimeName() + "://" + ver.GetRuntimeVersion()},
		}, cs, health(rt), log.Named("node").With(zap.String("node", name)))
		g.Go(func() error {
			defer rt.Close()
			if err := agent.Register(gctx); err != nil {
				return err
			}
			g.Go(func() error { agent.Run(gctx); return nil })
			return mgr.Run(gctx)
		})
	}
	g.Go(func() error { sources.Run(gctx); return nil })
	log.Info("hollow nodes running", zap.Int("nodes", len(names)))
	return g.Wait()
}

// hollowNames are the hollow nodes' names.
func hollowNames(cfg Config) []string {
	if cfg.FakeRuntime {
		return []string{cfg.NodeName}
	}
	names := make([]string, cfg.HollowNodes)
	for i := range names {
		names[i] = fmt.Sprintf("%s-hollow-%d", cfg.NodeName, i)
	}
	return names
}
