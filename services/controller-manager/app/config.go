// Package app runs the controller-manager: shared informers over the
// kinds the controllers watch, the controllers chosen by --controllers
// (each a rate-limited workqueue and workers calling its sync), Events,
// optional leader election on a Lease, and the metrics listener.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything the controller-manager needs to run.
type Config struct {
	// Kubeconfig is the kubeconfig file to reach the apiserver with;
	// empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// MetricsAddress serves /metrics, /healthz and /readyz; empty serves nothing.
	MetricsAddress string
	// Controllers lists the controllers to run; "*" is all of them.
	Controllers []string
	// Workers is the number of keys each controller syncs at once.
	Workers int
	// LeaderElect runs the controllers only while holding the Lease
	// LeaseNamespace/LeaseName, so that replicas can stand by.
	LeaderElect               bool
	LeaseNamespace, LeaseName string
	// LeaseDuration, RenewDeadline and RetryPeriod pace the election.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Identity names this replica in the Lease; hostname_random when empty.
	Identity string
	// NodeMonitorGracePeriod is how long a node's Lease may go unrenewed
	// before the node is marked Ready=Unknown and tainted unreachable.
	NodeMonitorGracePeriod time.Duration
	// DefaultTolerationSeconds is how long a pod without a toleration of
	// the not-ready and unreachable taints stays on such a node.
	DefaultTolerationSeconds int
	// ClusterCIDR is split into one podCIDR per node, NodeCIDRMaskSize
	// bits long; AllocateNodeCIDRs turns that on.
	ClusterCIDR       string
	NodeCIDRMaskSize  int
	AllocateNodeCIDRs bool
	// ClusterSigningCertFile and ClusterSigningKeyFile are the CA the
	// csrsigning controller issues certificates with; without them it is
	// idle. ClusterSigningDuration caps a certificate's validity.
	ClusterSigningCertFile, ClusterSigningKeyFile string
	ClusterSigningDuration                        time.Duration
	// JobBackoff is the delay before a Job replaces a failed pod,
	// doubling per failure; 10 s when 0 (tests shorten it; no flag, as in
	// Kubernetes).
	JobBackoff time.Duration
	// Now is the cronjob controller's clock; time.Now when nil (tests
	// inject a fake one; the other controllers keep the real clock, which
	// the kubelets' heartbeats follow).
	Now func() time.Time
	// Registry, when set, receives the metrics instead of a registry of
	// the controller-manager's own (an in-process cluster, tests).
	Registry *prometheus.Registry
	// OnReady, when set, is called once the informers have synced and the
	// controllers start.
	OnReady func()
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		MetricsAddress:           "127.0.0.1:10257",
		Controllers:              []string{"*"},
		Workers:                  5,
		LeaseNamespace:           "kube-system",
		LeaseName:                "tug-controller-manager",
		LeaseDuration:            15 * time.Second,
		RenewDeadline:            10 * time.Second,
		RetryPeriod:              2 * time.Second,
		NodeMonitorGracePeriod:   40 * time.Second,
		DefaultTolerationSeconds: 300,
		ClusterCIDR:              "10.244.0.0/16",
		NodeCIDRMaskSize:         24,
		AllocateNodeCIDRs:        true,
		ClusterSigningDuration:   365 * 24 * time.Hour,
	}
}

// AddFlags registers the controller-manager's flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file to reach the apiserver (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address serving /metrics, /healthz and /readyz (empty: none)")
	fs.Func("controllers", "comma-separated controllers to run, * for all: "+strings.Join(Names(), ", ")+" (default *)", func(s string) error {
		c.Controllers = strings.Split(s, ",")
		return nil
	})
	fs.IntVar(&c.Workers, "concurrent-syncs", c.Workers, "keys each controller syncs at once")
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, "run the controllers only while holding the leader lease")
	fs.StringVar(&c.LeaseNamespace, "leader-elect-resource-namespace", c.LeaseNamespace, "namespace of the leader lease")
	fs.StringVar(&c.LeaseName, "leader-elect-resource-name", c.LeaseName, "name of the leader lease")
	fs.DurationVar(&c.LeaseDuration, "leader-elect-lease-duration", c.LeaseDuration, "how long a lease holds without renewal")
	fs.DurationVar(&c.RenewDeadline, "leader-elect-renew-deadline", c.RenewDeadline, "how long the leader retries renewing before it stops leading")
	fs.DurationVar(&c.RetryPeriod, "leader-elect-retry-period", c.RetryPeriod, "pause between attempts to acquire or renew the lease")
	fs.DurationVar(&c.NodeMonitorGracePeriod, "node-monitor-grace-period", c.NodeMonitorGracePeriod, "how long a node's lease may go unrenewed before it is Ready=Unknown and tainted unreachable")
	fs.IntVar(&c.DefaultTolerationSeconds, "default-toleration-seconds", c.DefaultTolerationSeconds, "seconds a pod without its own toleration stays on a not-ready or unreachable node before eviction")
	fs.StringVar(&c.ClusterCIDR, "cluster-cidr", c.ClusterCIDR, "pod addresses of the cluster, split into one podCIDR per node")
	fs.IntVar(&c.NodeCIDRMaskSize, "node-cidr-mask-size", c.NodeCIDRMaskSize, "prefix length of each node's podCIDR")
	fs.BoolVar(&c.AllocateNodeCIDRs, "allocate-node-cidrs", c.AllocateNodeCIDRs, "give every node a spec.podCIDR from --cluster-cidr")
	fs.StringVar(&c.ClusterSigningCertFile, "cluster-signing-cert-file", c.ClusterSigningCertFile, "CA certificate (PEM) csrsigning issues certificates with (with --cluster-signing-key-file; without them csrsigning is idle)")
	fs.StringVar(&c.ClusterSigningKeyFile, "cluster-signing-key-file", c.ClusterSigningKeyFile, "the CA's private key (PEM, not readable by group or others)")
	fs.DurationVar(&c.ClusterSigningDuration, "cluster-signing-duration", c.ClusterSigningDuration, "longest validity of an issued certificate (a request's expirationSeconds may ask for less)")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Workers < 1:
		return errors.New("--concurrent-syncs must be at least 1")
	case c.LeaderElect && (c.LeaseNamespace == "" || c.LeaseName == ""):
		return errors.New("--leader-elect needs --leader-elect-resource-namespace and --leader-elect-resource-name")
	case c.NodeMonitorGracePeriod <= 0:
		return errors.New("--node-monitor-grace-period must be positive")
	case c.DefaultTolerationSeconds < 0:
		return errors.New("--default-toleration-seconds must not be negative")
	case (c.ClusterSigningCertFile == "") != (c.ClusterSigningKeyFile == ""):
		return errors.New("--cluster-signing-cert-file and --cluster-signing-key-file go together")
	case c.ClusterSigningDuration < 10*time.Minute:
		return fmt.Errorf("--cluster-signing-duration %s must be at least 10m", c.ClusterSigningDuration)
	}
	for _, name := range c.Controllers {
		if name != "*" && !slices.Contains(Names(), name) {
			return fmt.Errorf("--controllers: unknown controller %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	if c.AllocateNodeCIDRs && c.enabled("nodeipam") {
		p, err := netip.ParsePrefix(c.ClusterCIDR)
		if err != nil {
			return fmt.Errorf("--cluster-cidr: %w", err)
		}
		if !p.Addr().Is4() || c.NodeCIDRMaskSize <= p.Bits() || c.NodeCIDRMaskSize > 30 {
			return fmt.Errorf("--node-cidr-mask-size %d must be longer than --cluster-cidr %s and at most 30 (IPv4 only)", c.NodeCIDRMaskSize, c.ClusterCIDR)
		}
	}
	return nil
}

// enabled reports whether the controller called name is to run.
func (c *Config) enabled(name string) bool {
	return slices.Contains(c.Controllers, "*") || slices.Contains(c.Controllers, name)
}
