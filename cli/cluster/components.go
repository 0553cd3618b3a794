package cluster

import (
	"context"
	"net"

	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	controllermanager "github.com/tugboat-sh/tugboat/services/controller-manager/app"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	scheduler "github.com/tugboat-sh/tugboat/services/scheduler/app"
	"go.uber.org/zap"
)

// Component is one part of the local cluster.
type Component struct {
	Name string
	// Run runs the component until ctx ends; it calls ready once the
	// components after it may start (only the apiserver says so today).
	Run func(ctx context.Context, c Config, ready func(), log *zap.Logger) error
	// First says the components after it wait for its ready.
	First bool
	// Cleanup removes what the component made on the host (tug down);
	// nil when it makes nothing there.
	Cleanup func(ctx context.Context, c Config, log *zap.Logger) error
}

// Components are the parts of the cluster, in start order. The proxy and
// DNS join here as they land: Run builds their app.Config with
// c.internalConfig() as its kubeconfig and calls their app.Run; the
// proxy's Cleanup removes its nftables table.
func Components() []Component {
	return []Component{
		{Name: "apiserver", Run: runAPIServer, First: true},
		{Name: "scheduler", Run: runScheduler},
		{Name: "controller-manager", Run: runControllerManager},
		{Name: "kubelet", Run: runKubelet, Cleanup: cleanKubelet},
	}
}

func runAPIServer(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = c.ListenAddress
	cfg.DataDir = c.etcdDir()
	cfg.MetricsAddress = "" // served on the listen address
	cfg.OnReady = func(net.Addr) { ready() }
	return apiserver.Run(ctx, cfg, log)
}

func runScheduler(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := scheduler.DefaultConfig()
	cfg.Kubeconfig = c.internalConfig()
	cfg.MetricsAddress = ""
	cfg.OnReady = ready
	return scheduler.Run(ctx, cfg, log)
}

// runControllerManager runs every controller, without leader election
// (one replica) and with the node IPAM's defaults, whose first block is
// the kubelet's default --pod-cidr. It makes nothing on the host.
func runControllerManager(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := controllermanager.DefaultConfig()
	cfg.Kubeconfig = c.internalConfig()
	cfg.MetricsAddress = ""
	cfg.OnReady = ready
	return controllermanager.Run(ctx, cfg, log)
}

func kubeletConfig(c Config) kubelet.Config {
	cfg := kubelet.DefaultConfig()
	cfg.Kubeconfig = c.internalConfig()
	cfg.NodeName = c.NodeName
	cfg.Port = c.KubeletPort
	cfg.ManagedContainerd = true
	cfg.ContainerdBinary = c.ContainerdBinary
	cfg.RootDir = c.kubeletDir()
	cfg.ImageArchives = c.Images
	cfg.CNIBinDir = c.CNIBinDir
	cfg.MetricsAddress = ""
	return cfg
}

func runKubelet(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	ready()
	return kubelet.Run(ctx, kubeletConfig(c), log)
}

// cleanKubelet removes the pods' sandboxes and containers (with their
// network namespaces) through the kubelet's containerd, the pod bridge, the
// guard routes and the IPAM state: the kubelet's own --cleanup.
func cleanKubelet(ctx context.Context, c Config, log *zap.Logger) error {
	cfg := kubeletConfig(c)
	cfg.Cleanup = true
	cfg.Kubeconfig = ""
	cfg.ImageArchives = ""
	return kubelet.Run(ctx, cfg, log)
}
