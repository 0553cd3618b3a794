// Package app runs the proxy: informers on Services and Endpoints mark
// the Services that changed, a bounded-frequency runner turns them into
// one nftables transaction each time (a full replacement of the table at
// start and after a failure, only the changed Services' chains and map
// elements otherwise), and the metrics listener. --cleanup removes the
// table and returns.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/proxy/rules"
)

// Config is everything the proxy needs to run.
type Config struct {
	// Kubeconfig is the kubeconfig file to reach the apiserver with;
	// empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// NodeName names this node in logs; the hostname when empty.
	NodeName string
	// ServiceCIDR is the ClusterIP range: any address in it that no
	// Service port claims is rejected.
	ServiceCIDR string
	// ClusterCIDR is the pod range: traffic to a ClusterIP from outside
	// it is masqueraded. Empty masquerades none of it.
	ClusterCIDR string
	// NodePortAddresses are the CIDRs of the local addresses NodePorts
	// answer on; empty means all. 127.0.0.0/8 always answers.
	NodePortAddresses []string
	// MetricsAddress serves /metrics, /healthz and /readyz; empty serves nothing.
	MetricsAddress string
	// Table is the nftables table (family ip) the proxy owns.
	Table string
	// MinSyncPeriod is the shortest time between two syncs; SyncPeriod
	// the longest.
	MinSyncPeriod, SyncPeriod time.Duration
	// LocalhostNodePorts sets net.ipv4.conf.all.route_localnet=1 so that
	// NodePorts answer on 127.0.0.1 (their traffic is masqueraded).
	LocalhostNodePorts bool
	// StateDir keeps what the proxy changed on the host and must put back
	// on Cleanup: route_localnet's previous value.
	StateDir string
	// Cleanup removes the table (and restores route_localnet when the
	// proxy changed it) and returns instead of running.
	Cleanup bool
	// Registry, when set, receives the metrics instead of a registry of
	// the proxy's own (tests).
	Registry *prometheus.Registry
	// OnReady, when set, is called once after the first full sync.
	OnReady func()
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		ServiceCIDR:        "10.96.0.0/12",
		ClusterCIDR:        "10.244.0.0/16",
		MetricsAddress:     "127.0.0.1:10249",
		Table:              "tugboat-proxy",
		MinSyncPeriod:      100 * time.Millisecond,
		SyncPeriod:         30 * time.Second,
		LocalhostNodePorts: true,
		StateDir:           "/var/lib/tugboat/proxy",
	}
}

// AddFlags registers the proxy's flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file to reach the apiserver (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.NodeName, "node-name", c.NodeName, "this node's name (default the hostname)")
	fs.StringVar(&c.ServiceCIDR, "service-cidr", c.ServiceCIDR, "ClusterIP range; unclaimed addresses in it are rejected")
	fs.StringVar(&c.ClusterCIDR, "cluster-cidr", c.ClusterCIDR, "pod range; ClusterIP traffic from outside it is masqueraded (empty: none)")
	fs.Func("nodeport-addresses", "comma-separated CIDRs of the local addresses NodePorts answer on (default all; 127.0.0.0/8 always)", func(s string) error {
		c.NodePortAddresses = nil
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.NodePortAddresses = append(c.NodePortAddresses, p)
			}
		}
		return nil
	})
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address serving /metrics, /healthz and /readyz (empty: none)")
	fs.StringVar(&c.Table, "table", c.Table, "name of the nftables table (family ip) the proxy owns")
	fs.DurationVar(&c.MinSyncPeriod, "min-sync-period", c.MinSyncPeriod, "shortest time between two syncs of the rules")
	fs.DurationVar(&c.SyncPeriod, "sync-period", c.SyncPeriod, "longest time between two syncs of the rules")
	fs.BoolVar(&c.LocalhostNodePorts, "localhost-nodeports", c.LocalhostNodePorts, "answer NodePorts on 127.0.0.1 (sets net.ipv4.conf.all.route_localnet=1)")
	fs.StringVar(&c.StateDir, "state-dir", c.StateDir, "directory recording what the proxy changed on the host (route_localnet's previous value), for --cleanup")
	fs.BoolVar(&c.Cleanup, "cleanup", c.Cleanup, "remove the proxy's nftables table, restore route_localnet if the proxy changed it, and exit")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Table == "" {
		return errors.New("--table is required")
	}
	if c.StateDir == "" && (c.Cleanup || c.LocalhostNodePorts) {
		return errors.New("--state-dir is required (it records route_localnet's previous value)")
	}
	if c.Cleanup {
		return nil
	}
	if _, err := c.rules(); err != nil {
		return err
	}
	if c.MinSyncPeriod <= 0 || c.SyncPeriod < c.MinSyncPeriod {
		return fmt.Errorf("--min-sync-period %v must be positive and at most --sync-period %v", c.MinSyncPeriod, c.SyncPeriod)
	}
	return nil
}

// rules parses the CIDRs into the rules package's Config.
func (c *Config) rules() (rules.Config, error) {
	var rc rules.Config
	var err error
	if rc.ServiceCIDR, err = parseV4Prefix("--service-cidr", c.ServiceCIDR); err != nil {
		return rc, err
	}
	if !rc.ServiceCIDR.IsValid() {
		return rc, errors.New("--service-cidr is required")
	}
	if rc.ClusterCIDR, err = parseV4Prefix("--cluster-cidr", c.ClusterCIDR); err != nil {
		return rc, err
	}
	for _, s := range c.NodePortAddresses {
		p, err := parseV4Prefix("--nodeport-addresses", s)
		if err != nil {
			return rc, err
		}
		rc.NodePortAddresses = append(rc.NodePortAddresses, p)
	}
	return rc, nil
}

func parseV4Prefix(flag, s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%s: %q is not an IPv4 CIDR", flag, s)
	}
	return p.Masked(), nil
}

func (c *Config) nodeName() string {
	if c.NodeName != "" {
		return c.NodeName
	}
	h, _ := os.Hostname()
	return h
}
