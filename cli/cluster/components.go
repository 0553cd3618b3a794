package cluster

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/tugboat-sh/tugboat/component/pki"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	controllermanager "github.com/tugboat-sh/tugboat/services/controller-manager/app"
	dns "github.com/tugboat-sh/tugboat/services/dns/app"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	proxy "github.com/tugboat-sh/tugboat/services/proxy/app"
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
	// Node says it is a node's part (kubelet, proxy, DNS), which tug init
	// does not run.
	Node bool
}

// Components are the parts of the cluster, in start order (tug down
// cleans up in the reverse order: the kubelet's pods first, the proxy's
// nftables table last).
func Components() []Component {
	return []Component{
		{Name: "apiserver", Run: runAPIServer, First: true},
		{Name: "scheduler", Run: runScheduler},
		{Name: "controller-manager", Run: runControllerManager},
		{Name: "proxy", Run: runProxy, Cleanup: cleanProxy, Node: true},
		{Name: "dns", Run: runDNS, Node: true},
		{Name: "kubelet", Run: runKubelet, Cleanup: cleanKubelet, Node: true},
	}
}

// components are the parts c runs: all of them, or for tug init the
// control plane's.
func (c Config) components() []Component {
	var out []Component
	for _, comp := range Components() {
		if !c.Init || !comp.Node {
			out = append(out, comp)
		}
	}
	return out
}

// runAPIServer serves TLS from the data dir's pki (the files
// writeCredentials made), authenticates client certificates, bootstrap
// tokens and service-account tokens, authorises with Node,RBAC and audits
// to <data-dir>/audit.log: the apiserver's secure defaults, spelled out.
func runAPIServer(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = c.ListenAddress
	cfg.DataDir = c.etcdDir()
	cfg.MetricsAddress = "" // served on the listen address
	cfg.AdvertiseAddress = c.AdvertiseAddress
	cfg.Security.CertDir = c.certDir()
	cfg.Security.TLSSANs = c.extraSANs()
	cfg.Security.AuthorizationModes = []string{apiserver.ModeNode, apiserver.ModeRBAC}
	cfg.Security.BootstrapTokenAuth = true
	cfg.Security.AnonymousAuth = true
	cfg.Security.AuditLogPath = c.auditLog()
	cfg.OnReady = func(net.Addr) { ready() }
	return apiserver.Run(ctx, cfg, log)
}

func runScheduler(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := scheduler.DefaultConfig()
	cfg.Kubeconfig = c.conf(SchedulerConf)
	cfg.MetricsAddress = ""
	cfg.OnReady = ready
	return scheduler.Run(ctx, cfg, log)
}

// runControllerManager runs every controller, without leader election
// (one replica), with the node IPAM's defaults, whose first block is
// the kubelet's default --pod-cidr, and with the cluster CA signing the
// approved node certificates. It makes nothing on the host.
func runControllerManager(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := controllermanager.DefaultConfig()
	cfg.Kubeconfig = c.conf(ControllerManagerConf)
	cfg.ClusterSigningCertFile = pki.Dir(c.certDir()).CertPath(pki.CAName)
	cfg.ClusterSigningKeyFile = pki.Dir(c.certDir()).KeyPath(pki.CAName)
	cfg.MetricsAddress = ""
	cfg.OnReady = ready
	return controllermanager.Run(ctx, cfg, log)
}

func kubeletConfig(c Config) kubelet.Config {
	cfg := kubelet.DefaultConfig()
	cfg.Kubeconfig = c.conf(KubeletConf)
	cfg.NodeName = c.NodeName
	cfg.Port = c.KubeletPort
	cfg.ManagedContainerd = true
	cfg.ContainerdBinary = c.ContainerdBinary
	cfg.RootDir = c.kubeletDir()
	cfg.ImageArchives = c.Images
	cfg.CNIBinDir = c.CNIBinDir
	cfg.MetricsAddress = ""
	cfg.ClusterDNS = []string{dnsServiceIP}
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

// proxyConfig is the proxy on the node, with the defaults' CIDRs, which
// are the apiserver's and the kubelet's.
func proxyConfig(c Config) proxy.Config {
	cfg := proxy.DefaultConfig()
	cfg.Kubeconfig = c.conf(ProxyConf)
	cfg.NodeName = c.NodeName
	cfg.MetricsAddress = ""
	cfg.StateDir = c.proxyDir()
	return cfg
}

func runProxy(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	cfg := proxyConfig(c)
	cfg.OnReady = ready
	return proxy.Run(ctx, cfg, log)
}

// cleanProxy removes the proxy's nftables table: its own --cleanup.
func cleanProxy(ctx context.Context, c Config, log *zap.Logger) error {
	cfg := proxyConfig(c)
	cfg.Cleanup = true
	cfg.Kubeconfig = ""
	return proxy.Run(ctx, cfg, log)
}

// runDNS serves the cluster DNS on the node's pod bridge address, port 53
// (bound before the bridge exists), and publishes it as the Service
// kube-system/kube-dns at 10.96.0.10, which the proxy sends there. It
// makes nothing on the host.
func runDNS(ctx context.Context, c Config, ready func(), log *zap.Logger) error {
	bridge := bridgeAddress()
	cfg := dns.DefaultConfig()
	cfg.Kubeconfig = c.conf(DNSConf)
	cfg.MetricsAddress = ""
	cfg.ListenAddresses = []string{net.JoinHostPort(bridge.String(), strconv.Itoa(dnsPort))}
	cfg.PublishService = true
	cfg.ServiceIP = dnsServiceIP
	cfg.AdvertiseAddress = bridge.String()
	cfg.AdvertisePort = dnsPort
	cfg.OnReady = ready
	return dns.Run(ctx, cfg, log)
}

// The cluster DNS listens on the pod bridge's port dnsPort and is the
// Service kube-system/kube-dns at dnsServiceIP, the pods' nameserver.
const (
	dnsPort      = 53
	dnsServiceIP = "10.96.0.10"
)

// bridgeAddress is the node's pod bridge address: the first of the
// kubelet's pod CIDR (10.244.0.1).
func bridgeAddress() netip.Addr {
	return netip.MustParsePrefix(kubelet.DefaultConfig().PodCIDR).Masked().Addr().Next()
}
