// Package app runs the cluster DNS server: informers on Services and
// Endpoints feeding the record index, the DNS listeners on UDP and TCP,
// forwarding to the upstream resolvers, the optional kube-dns Service
// it publishes itself as, and the metrics listener.
package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/dns/forward"
)

// Config is everything the DNS server needs to run.
type Config struct {
	// Kubeconfig is the kubeconfig file to reach the apiserver with;
	// empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// ListenAddresses are the IP:port addresses served, each on UDP and
	// TCP. They are bound with IP_FREEBIND, so the pod bridge's address
	// can be bound before the bridge exists. Port 0 picks a free port.
	ListenAddresses []string
	// ClusterDomain is the zone served, "cluster.local".
	ClusterDomain string
	// ServiceCIDR is the range whose reverse (in-addr.arpa) names are
	// answered rather than forwarded.
	ServiceCIDR string
	// TTL is the time to live of every record answered.
	TTL time.Duration
	// Upstreams are the resolvers ("ip" or "ip:port") other names are
	// forwarded to; empty means the nameservers of ResolvConf.
	Upstreams []string
	// ResolvConf is read for Upstreams when none are given.
	ResolvConf string
	// ForwardTimeout bounds each upstream's answer.
	ForwardTimeout time.Duration
	// MetricsAddress serves /metrics, /healthz and /readyz; empty serves nothing.
	MetricsAddress string
	// PublishService creates and keeps the Service kube-system/kube-dns
	// at ServiceIP and its Endpoints at AdvertiseAddress:AdvertisePort.
	PublishService bool
	ServiceIP      string
	// AdvertiseAddress and AdvertisePort default to the first listen
	// address's IP and port.
	AdvertiseAddress string
	AdvertisePort    int
	// Registry, when set, receives the metrics instead of a registry of
	// the server's own (tests).
	Registry *prometheus.Registry
	// OnListen, when set, is called with the bound addresses (ports
	// chosen for port 0 filled in) once the sockets are open.
	OnListen func(addrs []string)
	// OnReady, when set, is called once the informers have synced and
	// queries are answered.
	OnReady func()

	listenSet bool // --listen replaces the default rather than adding to it
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		ListenAddresses: []string{"10.244.0.1:53"},
		ClusterDomain:   "cluster.local",
		ServiceCIDR:     "10.96.0.0/12",
		TTL:             5 * time.Second,
		ResolvConf:      "/etc/resolv.conf",
		ForwardTimeout:  2 * time.Second,
		MetricsAddress:  "127.0.0.1:9153",
		ServiceIP:       "10.96.0.10",
	}
}

// AddFlags registers the DNS server's flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file to reach the apiserver (default $KUBECONFIG, then ~/.kube/config)")
	fs.Func("listen", fmt.Sprintf("IP:port to serve DNS on, UDP and TCP; repeat or comma-separate for several (default %s)",
		strings.Join(c.ListenAddresses, ",")), func(s string) error {
		if !c.listenSet {
			c.ListenAddresses, c.listenSet = nil, true
		}
		c.ListenAddresses = append(c.ListenAddresses, splitList(s)...)
		return nil
	})
	fs.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain, "the cluster's DNS domain")
	fs.StringVar(&c.ServiceCIDR, "service-cluster-ip-range", c.ServiceCIDR, "the Service CIDR, whose reverse names are answered")
	fs.DurationVar(&c.TTL, "ttl", c.TTL, "time to live of the records answered")
	fs.Func("upstream", "resolver (IP or IP:port) to forward other names to; repeat or comma-separate (default: the nameservers of --resolv-conf)",
		func(s string) error { c.Upstreams = append(c.Upstreams, splitList(s)...); return nil })
	fs.StringVar(&c.ResolvConf, "resolv-conf", c.ResolvConf, "resolv.conf whose nameservers are the upstreams when --upstream is not given")
	fs.DurationVar(&c.ForwardTimeout, "forward-timeout", c.ForwardTimeout, "how long each upstream has to answer a forwarded query")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address serving /metrics, /healthz and /readyz (empty: none)")
	fs.BoolVar(&c.PublishService, "publish-service", c.PublishService, "create and keep the Service kube-system/kube-dns and its Endpoints")
	fs.StringVar(&c.ServiceIP, "service-ip", c.ServiceIP, "clusterIP of the published kube-dns Service")
	fs.StringVar(&c.AdvertiseAddress, "advertise-address", c.AdvertiseAddress, "endpoint address of the published Service (default: the first --listen IP)")
	fs.IntVar(&c.AdvertisePort, "advertise-port", c.AdvertisePort, "endpoint port (targetPort) of the published Service (default: the first --listen port)")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if len(c.ListenAddresses) == 0 {
		return errors.New("--listen: at least one address is required")
	}
	for _, a := range c.ListenAddresses {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return fmt.Errorf("--listen %q: want IP:port", a)
		}
	}
	if _, ok := dns.IsDomainName(c.ClusterDomain); !ok || strings.Trim(c.ClusterDomain, ".") == "" {
		return fmt.Errorf("--cluster-domain %q is not a domain name", c.ClusterDomain)
	}
	if p, err := netip.ParsePrefix(c.ServiceCIDR); err != nil || !p.Addr().Is4() {
		return fmt.Errorf("--service-cluster-ip-range %q: want an IPv4 CIDR", c.ServiceCIDR)
	}
	if c.TTL < time.Second || c.TTL > 24*time.Hour {
		return fmt.Errorf("--ttl %v: want between 1s and 24h", c.TTL)
	}
	if c.ForwardTimeout <= 0 {
		return errors.New("--forward-timeout must be positive")
	}
	for _, u := range c.Upstreams {
		if _, err := forward.Normalize(u); err != nil {
			return fmt.Errorf("--upstream: %w", err)
		}
	}
	if c.PublishService {
		if ip, err := netip.ParseAddr(c.ServiceIP); err != nil || !ip.Is4() {
			return fmt.Errorf("--service-ip %q is not an IPv4 address", c.ServiceIP)
		}
		addr, port := c.advertised()
		if ip, err := netip.ParseAddr(addr); err != nil || ip.IsUnspecified() {
			return fmt.Errorf("--advertise-address %q: want the IP pods reach the server at", addr)
		}
		if port < 1 || port > 65535 {
			return fmt.Errorf("--advertise-port %d: want 1-65535", port)
		}
	}
	return nil
}

// advertised returns the endpoint published for the kube-dns Service.
func (c *Config) advertised() (string, int) {
	addr, port := c.AdvertiseAddress, c.AdvertisePort
	if len(c.ListenAddresses) > 0 {
		host, p, _ := net.SplitHostPort(c.ListenAddresses[0])
		if addr == "" {
			addr = host
		}
		if port == 0 {
			port, _ = strconv.Atoi(p)
		}
	}
	return addr, port
}
