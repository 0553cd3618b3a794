// Package app runs the apiserver: etcd (embedded or external), the registry,
// gRPC and the REST gateway on one port, and the metrics listener.
package app

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/allocator"
)

// Config is everything the apiserver needs to run.
type Config struct {
	// ListenAddress serves gRPC and REST on one port.
	ListenAddress string
	// DataDir holds the embedded etcd's data.
	DataDir string
	// EtcdServers are external etcd endpoints; empty means embedded etcd.
	EtcdServers []string
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile are the client TLS of
	// external etcd (Kubernetes' --etcd-cafile, --etcd-certfile,
	// --etcd-keyfile); https endpoints need them.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EtcdClientURL and EtcdPeerURL place the embedded etcd; empty picks
	// free loopback ports. Their scheme follows security: https (with
	// client-certificate authentication against <cert-dir>/etcd/ca.crt)
	// unless Security.Insecure.
	EtcdClientURL, EtcdPeerURL string
	// MetricsAddress serves /metrics, /healthz and /readyz; empty serves them only on ListenAddress.
	MetricsAddress string
	// CompactionInterval compacts etcd's history this often, keeping one interval of it.
	CompactionInterval time.Duration
	// BookmarkInterval is how often a watch that allows bookmarks gets one.
	BookmarkInterval time.Duration
	// ObjectCountInterval is how often the objects-per-resource gauge is
	// refreshed (tests shorten it; it has no flag).
	ObjectCountInterval time.Duration
	// Security (security.go): TLS, authentication, authorisation and
	// audit, all on by default; Security.Insecure turns them off.
	Security Security
	// EncryptionKeyFile holds the keys secrets are encrypted with at rest;
	// empty means <DataDir>/encryption-keys. It is created on first start.
	EncryptionKeyFile string
	// ServiceClusterIPRange is the CIDR cluster IPs are allocated from; its
	// first address is the `kubernetes` Service's.
	ServiceClusterIPRange string
	// ServiceNodePortRange is the range node ports are allocated from, "30000-32767".
	ServiceNodePortRange string
	// ServiceRepairInterval is how often the Service allocators are
	// repaired while serving (tests shorten it; it has no flag).
	ServiceRepairInterval time.Duration
	// KubernetesServiceInterval is how often the `kubernetes` Service and
	// Endpoints are reconciled while serving (tests shorten it; it has no
	// flag).
	KubernetesServiceInterval time.Duration
	// ConnectionReadTimeout bounds how long a new connection may take to
	// complete its TLS handshake and send the first bytes that tell gRPC
	// from REST, so one that sends nothing cannot hold a goroutine forever
	// (tests shorten it; it has no flag).
	ConnectionReadTimeout time.Duration
	// AdvertiseAddress is the IP the `kubernetes` Service's Endpoints point
	// at; empty means the listen address's (or, when that is unspecified,
	// the host's first non-loopback IPv4 address).
	AdvertiseAddress string
	// UnsafeNoFsync disables fsync in the embedded etcd (tests and benchmarks only).
	UnsafeNoFsync bool
	// OnReady, when set, is called with the bound address once the server serves.
	OnReady func(addr net.Addr)
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		ListenAddress:             "127.0.0.1:6443",
		DataDir:                   "/var/lib/tugboat/apiserver",
		CompactionInterval:        5 * time.Minute,
		BookmarkInterval:          time.Minute,
		ObjectCountInterval:       30 * time.Second,
		ServiceClusterIPRange:     "10.96.0.0/12",
		ServiceNodePortRange:      "30000-32767",
		ServiceRepairInterval:     3 * time.Minute,
		KubernetesServiceInterval: 10 * time.Second,
		ConnectionReadTimeout:     10 * time.Second,
		Security:                  defaultSecurity(),
	}
}

// AddFlags registers the apiserver's flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ListenAddress, "listen-address", c.ListenAddress, "address serving gRPC and REST")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded etcd's data")
	fs.Func("etcd-servers", "comma-separated external etcd endpoints (default: embedded etcd)", func(s string) error {
		c.EtcdServers = nil
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				c.EtcdServers = append(c.EtcdServers, e)
			}
		}
		return nil
	})
	fs.StringVar(&c.EtcdCAFile, "etcd-cafile", c.EtcdCAFile, "CA bundle verifying the external etcd's serving certificates (needed by https --etcd-servers)")
	fs.StringVar(&c.EtcdCertFile, "etcd-certfile", c.EtcdCertFile, "client certificate presented to the external etcd (needed by https --etcd-servers)")
	fs.StringVar(&c.EtcdKeyFile, "etcd-keyfile", c.EtcdKeyFile, "private key of --etcd-certfile (mode 0600)")
	fs.StringVar(&c.EtcdClientURL, "etcd-client-url", c.EtcdClientURL, "where the embedded etcd serves clients (default: a free loopback port)")
	fs.StringVar(&c.EtcdPeerURL, "etcd-peer-url", c.EtcdPeerURL, "the embedded etcd's peer URL (default: a free loopback port)")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address serving /metrics, /healthz and /readyz (also served on --listen-address)")
	fs.DurationVar(&c.CompactionInterval, "compaction-interval", c.CompactionInterval, "how often etcd history is compacted (0: never)")
	fs.DurationVar(&c.BookmarkInterval, "bookmark-interval", c.BookmarkInterval, "how often watches that allow bookmarks get one")
	fs.StringVar(&c.ServiceClusterIPRange, "service-cluster-ip-range", c.ServiceClusterIPRange, "CIDR Service cluster IPs are allocated from; its first address is the kubernetes Service's")
	fs.StringVar(&c.ServiceNodePortRange, "service-node-port-range", c.ServiceNodePortRange, "range NodePort Services' ports are allocated from, <first>-<last>")
	fs.StringVar(&c.AdvertiseAddress, "advertise-address", c.AdvertiseAddress, "IP the kubernetes Service's Endpoints point at (default: the listen address's IP)")
	fs.StringVar(&c.EncryptionKeyFile, "encryption-key-file", c.EncryptionKeyFile, "keys that encrypt secrets at rest, one <id>:<base64 32 bytes> a line, the first encrypts (default <data-dir>/encryption-keys, created mode 0600 on first start)")
	c.Security.addFlags(fs)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.ListenAddress == "" {
		return fmt.Errorf("--listen-address is required")
	}
	for _, e := range c.EtcdServers {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--etcd-servers: %q is not an etcd endpoint URL: want http://host:port or https://host:port, comma-separated", e)
		}
	}
	if err := c.validateEtcdTLS(); err != nil {
		return err
	}
	if len(c.EtcdServers) == 0 && c.DataDir == "" {
		return fmt.Errorf("--data-dir is required for the embedded etcd")
	}
	if c.EncryptionKeyFile == "" && c.DataDir == "" {
		return fmt.Errorf("--encryption-key-file is required when there is no --data-dir")
	}
	if err := c.Security.defaultCertDir(c.DataDir); err != nil {
		return err
	}
	if err := c.Security.validate(); err != nil {
		return err
	}
	if p, err := netip.ParsePrefix(c.ServiceClusterIPRange); err != nil {
		return fmt.Errorf("--service-cluster-ip-range %q: want a CIDR such as 10.96.0.0/12", c.ServiceClusterIPRange)
	} else if p.Addr().BitLen()-p.Bits() < 2 {
		return fmt.Errorf("--service-cluster-ip-range %s is too small: it needs at least two usable addresses", p)
	}
	if _, err := allocator.ParsePortRange(c.ServiceNodePortRange); err != nil {
		return fmt.Errorf("--service-node-port-range: %w", err)
	}
	if c.AdvertiseAddress != "" {
		if a, err := netip.ParseAddr(c.AdvertiseAddress); err != nil || a.IsUnspecified() {
			return fmt.Errorf("--advertise-address %q: want a host IP address", c.AdvertiseAddress)
		}
	}
	if c.BookmarkInterval <= 0 {
		c.BookmarkInterval = time.Minute
	}
	if c.ServiceRepairInterval <= 0 {
		c.ServiceRepairInterval = 3 * time.Minute
	}
	if c.KubernetesServiceInterval <= 0 {
		c.KubernetesServiceInterval = 10 * time.Second
	}
	if c.ConnectionReadTimeout <= 0 {
		c.ConnectionReadTimeout = 10 * time.Second
	}
	if c.ObjectCountInterval <= 0 {
		c.ObjectCountInterval = 30 * time.Second
	}
	return nil
}

// validateEtcdTLS checks the external etcd's client TLS flags: they go
// with --etcd-servers, the certificate with its key, and https endpoints
// need all three.
func (c *Config) validateEtcdTLS() error {
	given := c.EtcdCAFile != "" || c.EtcdCertFile != "" || c.EtcdKeyFile != ""
	if given && len(c.EtcdServers) == 0 {
		return fmt.Errorf("--etcd-cafile, --etcd-certfile and --etcd-keyfile are for external etcd: set --etcd-servers (the embedded etcd's certificates are under --cert-dir)")
	}
	if (c.EtcdCertFile == "") != (c.EtcdKeyFile == "") {
		return fmt.Errorf("--etcd-certfile and --etcd-keyfile go together")
	}
	for _, e := range c.EtcdServers {
		if strings.HasPrefix(e, "https://") && (c.EtcdCAFile == "" || c.EtcdCertFile == "") {
			return fmt.Errorf("--etcd-servers: %s is https: set --etcd-cafile, --etcd-certfile and --etcd-keyfile", e)
		}
	}
	return nil
}
