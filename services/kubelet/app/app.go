package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-logr/zapr"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/component/observe"
	"github.com/tugboat-sh/tugboat/services/kubelet/containerd"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/network"
	"github.com/tugboat-sh/tugboat/services/kubelet/node"
	"github.com/tugboat-sh/tugboat/services/kubelet/pods"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// Run runs the kubelet (or the hollow kubelets) until ctx ends.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// client-go's exec streaming logs through klog: into our zap logger.
	klog.SetLogger(zapr.NewLogger(log.Named("klog")))
	if cfg.Cleanup {
		return cleanup(ctx, cfg, log)
	}
	if err := bootstrap(ctx, cfg, log.Named("bootstrap")); err != nil {
		return err
	}
	obs := observe.NewServer()
	cs, conn, kc, err := connect(ctx, cfg, obs)
	if err != nil {
		return err
	}
	defer conn.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	if cfg.HollowNodes > 0 || cfg.FakeRuntime {
		g.Go(func() error { return runHollow(gctx, cfg, cs, kc.CAData, obs, log) })
	} else {
		g.Go(func() error { return runNode(gctx, cfg, cs, kc.CAData, obs, log) })
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// connect dials the apiserver named by the kubeconfig.
func connect(ctx context.Context, cfg Config, obs *observe.Server) (*clientset.Set, *grpc.ClientConn, *config.Config, error) {
	path, err := config.Locate(cfg.Kubeconfig)
	if err != nil {
		return nil, nil, nil, err
	}
	kc, err := config.Load(path, cfg.Context)
	if err != nil {
		return nil, nil, nil, err
	}
	m := obs.GRPCClientMetrics("kubelet")
	conn, err := config.Dial(ctx, kc,
		grpc.WithChainUnaryInterceptor(m.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(m.StreamClientInterceptor()))
	if err != nil {
		return nil, nil, nil, err
	}
	return clientset.New(conn), conn, kc, nil
}

// runNode is a real node: its runtime, network, Node object and pods.
// kubeconfigCA is the CA of the kubeconfig in use: the default client CA
// of the kubelet API.
func runNode(ctx context.Context, cfg Config, cs *clientset.Set, kubeconfigCA []byte, obs *observe.Server, log *zap.Logger) error {
	cidr, err := nodePodCIDR(ctx, cs, cfg, log)
	if err != nil {
		return err
	}
	cfg.PodCIDR = cidr
	podCIDR := netip.MustParsePrefix(cfg.PodCIDR)
	guard, err := network.InstallGuard(netip.MustParsePrefix(cfg.ClusterCIDR), netip.MustParsePrefix(cfg.ServiceCIDR))
	if err != nil {
		return err
	}
	log.Info("cluster CIDRs guarded", zap.Any("blackholes", guard.Added()))
	endpoint := cfg.RuntimeEndpoint
	g, gctx := errgroup.WithContext(ctx)
	if cfg.ManagedContainerd {
		ctrd, err := startContainerd(gctx, cfg, g, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := ctrd.Stop(10 * time.Second); err != nil {
				log.Warn("containerd stop", zap.Error(err))
			}
		}()
		endpoint = ctrd.Endpoint
	} else if cfg.CNIConfDir != "" {
		if err := cfg.writeCNIConfig(cfg.CNIConfDir); err != nil {
			return err
		}
	}
	rt, ver, err := cri.Dial(ctx, endpoint, 30*time.Second)
	if err != nil {
		return err
	}
	defer rt.Close()
	log.Info("runtime connected", zap.String("endpoint", endpoint), zap.String("runtime", ver.GetRuntimeName()+" "+ver.GetRuntimeVersion()))

	labels, _ := parseLabels(cfg.Labels)
	capacity, err := node.HostCapacity()
	if err != nil {
		return err
	}
	rec := record.New(cs.Events(), "kubelet", cfg.NodeName, log.Named("events"))
	g.Go(func() error { rec.Run(gctx); return nil })

	mgr, err := pods.New(pods.Config{
		NodeName: cfg.NodeName, NodeIP: cfg.NodeIP, LogDir: filepath.Join(cfg.RootDir, "pods"),
		RuntimeName: ver.GetRuntimeName(), RelistPeriod: cfg.RelistPeriod, Registerer: obs.Registry,
		VolumeDir: cfg.volumeDir(), Allocatable: capacity,
		ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain, ResolvConf: cfg.ResolvConf,
	}, cs, rt, rec, log.Named("pods"))
	if err != nil {
		return err
	}
	port, err := serveStreams(gctx, g, cfg, kubeconfigCA, rt, mgr, obs, log)
	if err != nil {
		return err
	}
	agent := node.New(node.Config{
		Name: cfg.NodeName, IP: cfg.NodeIP, Port: int32(port), PodCIDR: podCIDR.String(),
		Labels:   nodeLabels(cfg.NodeName, labels),
		Capacity: capacity,
		Info:     node.HostInfo(ver.GetRuntimeName()+"://"+ver.GetRuntimeVersion(), Version),
	}, cs, health(rt), log.Named("node"))
	if err := agent.Register(ctx); err != nil {
		return err
	}
	obs.AddReadyCheck("runtime", func(ctx context.Context) error {
		if ok, reason, msg := health(rt)(ctx); !ok {
			return fmt.Errorf("%s: %s", reason, msg)
		}
		return nil
	})
	g.Go(func() error { agent.Run(gctx); return nil })
	g.Go(func() error { return mgr.Run(gctx) })
	log.Info("kubelet running", zap.String("node", cfg.NodeName), zap.String("podCIDR", podCIDR.String()))
	return g.Wait()
}

// nodeLabels are the well-known labels plus the configured ones.
func nodeLabels(name string, extra map[string]string) map[string]string {
	l := map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     goarch,
		"beta.kubernetes.io/os":  "linux",
	}
	l["beta.kubernetes.io/arch"] = goarch
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// health asks the runtime whether it and its network are ready.
func health(rt *cri.Runtime) node.Health {
	return func(ctx context.Context) (bool, string, string) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		st, err := rt.Status(cctx, &runtimeapi.StatusRequest{})
		if err != nil {
			return false, "KubeletNotReady", "container runtime is down: " + err.Error()
		}
		for _, c := range st.GetStatus().GetConditions() {
			if !c.GetStatus() {
				return false, "KubeletNotReady", fmt.Sprintf("container runtime not ready: %s=false reason:%s message:%s", c.GetType(), c.GetReason(), c.GetMessage())
			}
		}
		return true, "", ""
	}
}

// managedContainerd is a started containerd and how to reach it.
type managedContainerd struct {
	*containerd.Process
	Endpoint string
}

// startContainerd writes the CNI config, serves the image archives on a
// loopback registry and starts the kubelet's own containerd.
func startContainerd(ctx context.Context, cfg Config, g *errgroup.Group, log *zap.Logger) (*managedContainerd, error) {
	cc := cfg.containerdConfig()
	if err := cfg.writeCNIConfig(cc.CNIConfDir()); err != nil {
		return nil, err
	}
	if cfg.ImageArchives != "" {
		addr, err := serveImages(ctx, g, cfg.ImageArchives, log)
		if err != nil {
			return nil, err
		}
		cc.Mirrors["tugboat.local"] = []string{"http://" + addr}
	}
	logFile, err := os.OpenFile(filepath.Join(cfg.RootDir, "containerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		if err := os.MkdirAll(cfg.RootDir, 0o711); err != nil {
			return nil, fmt.Errorf("kubelet root dir: %w", err)
		}
		if logFile, err = os.OpenFile(filepath.Join(cfg.RootDir, "containerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
			return nil, fmt.Errorf("containerd log: %w", err)
		}
	}
	p, err := containerd.Start(ctx, cc, logFile, log)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	go func() { <-p.Done(); logFile.Close() }()
	g.Go(func() error {
		select {
		case <-ctx.Done():
			return nil
		case <-p.Done():
			return errors.New("managed containerd exited; see " + filepath.Join(cfg.RootDir, "containerd.log"))
		}
	})
	return &managedContainerd{Process: p, Endpoint: cc.Endpoint()}, nil
}

func portOf(addr net.Addr) int {
	_, p, _ := net.SplitHostPort(addr.String())
	n, _ := strconv.Atoi(p)
	return n
}

// volumeDir holds the pods' volumes.
func (c Config) volumeDir() string { return filepath.Join(c.RootDir, "pod-volumes") }

// containerdConfig is the managed containerd under --root-dir.
func (c Config) containerdConfig() containerd.Config {
	return containerd.Config{
		Dir:          filepath.Join(c.RootDir, "containerd"),
		Binary:       c.ContainerdBinary,
		SandboxImage: c.SandboxImage,
		CNIBinDir:    c.CNIBinDir,
		Mirrors:      map[string][]string{},
	}
}

// writeCNIConfig writes the pod network's CNI config into dir, routing pods
// to the cluster and service CIDRs only. Validate has parsed the CIDRs.
func (c Config) writeCNIConfig(dir string) error {
	return network.WriteCNIConfig(dir, filepath.Join(c.RootDir, "ipam"), netip.MustParsePrefix(c.PodCIDR),
		netip.MustParsePrefix(c.ClusterCIDR), netip.MustParsePrefix(c.ServiceCIDR))
}
