// Package app is tug-kubelet: the node agent. It registers its Node, runs
// the pods bound to it through a CRI runtime (containerd, its own with
// --managed-containerd), reports their status, and serves their logs and
// exec to the apiserver. With --hollow-nodes it instead runs many hollow
// kubelets over in-memory fake runtimes, for scale tests.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
)

// Version is what the node reports as its kubelet version.
const Version = "v1.34.0-tugboat"

// Config is the kubelet's configuration; flags map onto it.
type Config struct {
	Kubeconfig string
	// BootstrapKubeconfig (--bootstrap-kubeconfig) holds a bootstrap token
	// and the cluster's CA: when Kubeconfig does not exist, the kubelet
	// requests its client certificate with it and writes Kubeconfig.
	BootstrapKubeconfig string
	Context             string
	NodeName            string
	NodeIP              string
	Address             string // where logs and exec are served
	Port                int
	// TLSCertFile and TLSPrivateKeyFile serve the kubelet API; unset, a
	// self-signed pair under <RootDir>/pki is made on first start.
	TLSCertFile, TLSPrivateKeyFile string
	// ClientCAFile verifies the callers' client certificates; unset, the
	// CA of the kubeconfig in use.
	ClientCAFile string
	// Insecure serves the kubelet API in plaintext to anyone.
	Insecure          bool
	RuntimeEndpoint   string
	ManagedContainerd bool
	ContainerdBinary  string
	RootDir           string
	ImageArchives     string // OCI archives served to the managed containerd
	SandboxImage      string
	// PodCIDR is this node's pod addresses. Empty: the Node registers
	// without spec.podCIDR and the kubelet waits for the
	// controller-manager's node IPAM to assign one.
	PodCIDR        string
	ClusterCIDR    string
	ServiceCIDR    string
	CNIBinDir      string
	CNIConfDir     string // for an external runtime: where to write the CNI config
	Labels         string
	MetricsAddress string
	HollowNodes    int
	HollowCapacity string
	// HollowBehaviors sets what the hollow nodes' containers do, by image
	// ("" for every other image): exit after a while, print logs. No flag:
	// for tests that need pods to finish (Jobs).
	HollowBehaviors map[string]fakeruntime.Behavior
	// HollowRuntimes, when set, is given each hollow node's fake runtime
	// before it serves. No flag: for tests that look at what the kubelet
	// asked of the runtime (sandbox DNS, container env).
	HollowRuntimes func(node string, rt *fakeruntime.Runtime)
	// FakeRuntime runs NodeName as one hollow node (an in-memory fake
	// runtime, no pod network) with the kubelet's own credentials, which
	// may be a node's (BootstrapKubeconfig works). No flag: for tests of
	// a kubelet under the node authoriser.
	FakeRuntime  bool
	RelistPeriod time.Duration
	Cleanup      bool
	// ClusterDNS are the DNS servers of ClusterFirst pods (--cluster-dns,
	// a comma list); ClusterDomain the cluster's domain; ResolvConf the
	// host's resolv.conf ("" for none).
	ClusterDNS    []string
	ClusterDomain string
	ResolvConf    string
}

// DefaultConfig returns the defaults the flags show, but for PodCIDR:
// an in-process kubelet (tug up) gets 10.244.0.0/24, while --pod-cidr
// starts empty, so that a kubelet binary takes its block from the node
// IPAM unless the flag is given (AddFlags clears it).
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		NodeName:       strings.ToLower(host),
		NodeIP:         "127.0.0.1",
		Port:           10250,
		RootDir:        "/var/lib/tugboat/kubelet",
		SandboxImage:   "tugboat.local/pause:latest",
		PodCIDR:        "10.244.0.0/24",
		ClusterCIDR:    "10.244.0.0/16",
		ServiceCIDR:    "10.96.0.0/12",
		CNIBinDir:      "/usr/lib/cni",
		MetricsAddress: "127.0.0.1:10248",
		HollowCapacity: "cpu=4,memory=16Gi,pods=110",
		ClusterDNS:     []string{"10.96.0.10"},
		ClusterDomain:  "cluster.local",
		ResolvConf:     "/etc/resolv.conf",
	}
}

// AddFlags binds the flags to c.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file with the apiserver's address and credentials (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.BootstrapKubeconfig, "bootstrap-kubeconfig", c.BootstrapKubeconfig, "kubeconfig with a bootstrap token: when the --kubeconfig file does not exist or its client certificate is expired, near its end (last 10%) or broken, request this node's client certificate with it and write --kubeconfig")
	fs.StringVar(&c.Context, "context", c.Context, "kubeconfig context to use (default: its current-context)")
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "name of this node")
	fs.StringVar(&c.NodeIP, "node-ip", c.NodeIP, "the node's InternalIP: the apiserver reaches the kubelet there (set the host's address for a multi-node cluster)")
	fs.StringVar(&c.Address, "address", c.Address, "address to serve the kubelet API (logs, exec) on (default: --node-ip)")
	fs.IntVar(&c.Port, "port", c.Port, "port to serve logs and exec on (0: none)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", c.TLSCertFile, "serving certificate (chain) of the kubelet API (default: a self-signed one made under --root-dir/pki)")
	fs.StringVar(&c.TLSPrivateKeyFile, "tls-private-key-file", c.TLSPrivateKeyFile, "private key of --tls-cert-file (mode 0600)")
	fs.StringVar(&c.ClientCAFile, "client-ca-file", c.ClientCAFile, "CA bundle that signs the client certificates the kubelet API accepts (default: the CA of the kubeconfig in use)")
	fs.BoolVar(&c.Insecure, "insecure", c.Insecure, "serve the kubelet API (logs, exec, attach, port-forward) in plaintext to anyone: no TLS, no client authentication; never on a reachable address")
	fs.StringVar(&c.RuntimeEndpoint, "runtime-endpoint", c.RuntimeEndpoint, "CRI runtime socket, e.g. unix:///run/containerd/containerd.sock (or use --managed-containerd)")
	fs.BoolVar(&c.ManagedContainerd, "managed-containerd", c.ManagedContainerd, "run a containerd of the kubelet's own under --root-dir/containerd")
	fs.StringVar(&c.ContainerdBinary, "containerd-binary", c.ContainerdBinary, "containerd executable for --managed-containerd (default: containerd from $PATH)")
	fs.StringVar(&c.RootDir, "root-dir", c.RootDir, "kubelet state: pod logs, the managed containerd")
	fs.StringVar(&c.ImageArchives, "image-archives", c.ImageArchives, "directory of OCI image archives (make images) served to the managed containerd as registry tugboat.local")
	fs.StringVar(&c.SandboxImage, "pod-infra-container-image", c.SandboxImage, "sandbox (pause) image of the managed containerd")
	// No default: only an explicit --pod-cidr is the node's; unset, the
	// node IPAM assigns it (flag.Changed semantics through an empty
	// default, which StringVar stores in c.PodCIDR).
	fs.StringVar(&c.PodCIDR, "pod-cidr", "", "this node's pod addresses (a slice of --cluster-cidr); unset: register the Node without spec.podCIDR and wait for the controller-manager's node IPAM to assign one")
	fs.StringVar(&c.ClusterCIDR, "cluster-cidr", c.ClusterCIDR, "all pods' addresses: guarded by a blackhole route")
	fs.StringVar(&c.ServiceCIDR, "service-cidr", c.ServiceCIDR, "Service addresses: guarded by a blackhole route")
	fs.StringVar(&c.CNIBinDir, "cni-bin-dir", c.CNIBinDir, "CNI plugin binaries (Debian's containernetworking-plugins)")
	fs.StringVar(&c.CNIConfDir, "cni-conf-dir", c.CNIConfDir, "with an external runtime: write the pod network's CNI config here (its CRI plugin's conf_dir)")
	fs.StringVar(&c.Labels, "node-labels", c.Labels, "extra node labels, key=value,...")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address of /metrics, /healthz and /readyz")
	fs.IntVar(&c.HollowNodes, "hollow-nodes", c.HollowNodes, "run this many hollow kubelets over in-memory fake runtimes instead of a real node")
	fs.StringVar(&c.HollowCapacity, "hollow-capacity", c.HollowCapacity, "capacity of each hollow node")
	fs.DurationVar(&c.RelistPeriod, "relist-period", c.RelistPeriod, "how often the runtime is listed for changes (default 1s, 10s for hollow nodes)")
	fs.Func("cluster-dns", "DNS server addresses of ClusterFirst pods, comma-separated (default "+strings.Join(c.ClusterDNS, ",")+"); empty: they get the host's resolv.conf", func(v string) error {
		c.ClusterDNS = nil
		for ip := range strings.SplitSeq(v, ",") {
			if ip = strings.TrimSpace(ip); ip != "" {
				c.ClusterDNS = append(c.ClusterDNS, ip)
			}
		}
		return nil
	})
	fs.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain, "the cluster's DNS domain: pods search <ns>.svc.<domain> svc.<domain> <domain>")
	fs.StringVar(&c.ResolvConf, "resolv-conf", c.ResolvConf, "the host's resolver configuration, for pods with dnsPolicy Default, hostNetwork pods and the search domains ClusterFirst pods add (empty: none)")
	fs.BoolVar(&c.Cleanup, "cleanup", c.Cleanup, "stop and remove every sandbox this kubelet's runtime holds for Tugboat, the pod bridge and the guard routes, then exit")
}

// Validate checks the configuration and names what is wrong.
func (c *Config) Validate() error {
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, errors.New("--node-name is empty"))
	}
	if c.BootstrapKubeconfig != "" && c.Kubeconfig == "" {
		errs = append(errs, errors.New("--bootstrap-kubeconfig needs --kubeconfig: the file the node's credentials are written to"))
	}
	if c.BootstrapKubeconfig != "" && c.HollowNodes > 0 {
		errs = append(errs, errors.New("--bootstrap-kubeconfig and --hollow-nodes exclude each other: hollow nodes share one client"))
	}
	if c.HollowNodes < 0 {
		errs = append(errs, fmt.Errorf("--hollow-nodes %d is negative", c.HollowNodes))
	}
	if c.HollowNodes > 0 && c.FakeRuntime {
		errs = append(errs, errors.New("--hollow-nodes and a fake runtime exclude each other"))
	}
	if c.HollowNodes == 0 && !c.FakeRuntime {
		if c.RuntimeEndpoint == "" && !c.ManagedContainerd {
			errs = append(errs, errors.New("--runtime-endpoint or --managed-containerd is required"))
		}
		if c.RuntimeEndpoint != "" && c.ManagedContainerd {
			errs = append(errs, errors.New("--runtime-endpoint and --managed-containerd exclude each other"))
		}
	}
	if _, err := netip.ParseAddr(c.NodeIP); err != nil {
		errs = append(errs, fmt.Errorf("--node-ip %q: %w", c.NodeIP, err))
	}
	errs = append(errs, validateCIDRs(c.PodCIDR, c.ClusterCIDR, c.ServiceCIDR)...)
	if (c.TLSCertFile == "") != (c.TLSPrivateKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	if c.Insecure && (c.TLSCertFile != "" || c.TLSPrivateKeyFile != "" || c.ClientCAFile != "") {
		errs = append(errs, errors.New("--insecure serves plaintext: it excludes --tls-cert-file, --tls-private-key-file and --client-ca-file"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("--port %d is out of range", c.Port))
	}
	if _, err := parseLabels(c.Labels); err != nil {
		errs = append(errs, err)
	}
	for _, ip := range c.ClusterDNS {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-dns %q is not an IP address", ip))
		}
	}
	if len(c.ClusterDNS) > 3 {
		errs = append(errs, fmt.Errorf("--cluster-dns has %d addresses, at most 3 fit a resolv.conf", len(c.ClusterDNS)))
	}
	if d := c.ClusterDomain; d != "" && (strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.ContainsAny(d, " /")) {
		errs = append(errs, fmt.Errorf("--cluster-domain %q is not a DNS domain", d))
	}
	return errors.Join(errs...)
}

// parseLabels reads key=value,key=value.
func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for kv := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--node-labels: %q is not key=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// validateCIDRs checks the pod (when set), cluster and service ranges: private IPv4,
// the guarded ones no wider than /12 (a wider blackhole could swallow the
// host's own resolver), the pod range inside the cluster range, and the
// cluster and service ranges apart.
func validateCIDRs(pod, cluster, service string) []error {
	var errs []error
	parsed := map[string]netip.Prefix{}
	for _, f := range []struct{ name, v string }{{"--pod-cidr", pod}, {"--cluster-cidr", cluster}, {"--service-cidr", service}} {
		p, err := netip.ParsePrefix(f.v)
		switch {
		case f.name == "--pod-cidr" && f.v == "":
			// Unset: the node IPAM's block, checked when it comes.
		case err != nil:
			errs = append(errs, fmt.Errorf("%s %q: %w", f.name, f.v, err))
		case !p.Addr().Is4() || !p.Addr().IsPrivate():
			errs = append(errs, fmt.Errorf("%s %s: want a private IPv4 range", f.name, f.v))
		case p.Bits() < 12:
			errs = append(errs, fmt.Errorf("%s %s: wider than /12; the guard route would cover too much", f.name, f.v))
		default:
			parsed[f.name] = p.Masked()
		}
	}
	pp, okP := parsed["--pod-cidr"]
	cp, okC := parsed["--cluster-cidr"]
	sp, okS := parsed["--service-cidr"]
	if okP && okC && (!cp.Contains(pp.Addr()) || pp.Bits() < cp.Bits()) {
		errs = append(errs, fmt.Errorf("--pod-cidr %s is not inside --cluster-cidr %s", pp, cp))
	}
	if okC && okS && cp.Overlaps(sp) {
		errs = append(errs, fmt.Errorf("--cluster-cidr %s overlaps --service-cidr %s", cp, sp))
	}
	return errs
}
