package app

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.ListenAddresses, []string{"10.244.0.1:53"}) || cfg.ClusterDomain != "cluster.local" || cfg.TTL != 5*time.Second ||
		cfg.ServiceIP != "10.96.0.10" || cfg.ServiceCIDR != "10.96.0.0/12" || cfg.MetricsAddress != "127.0.0.1:9153" || cfg.PublishService {
		t.Fatalf("defaults = %+v", cfg)
	}
	if err := fs.Parse([]string{"--listen=127.0.0.1:5353,10.244.0.1:53", "--listen=127.0.0.2:53", "--upstream=127.0.0.1:5300",
		"--ttl=30s", "--cluster-domain=example.internal", "--publish-service", "--advertise-port=5353"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.ListenAddresses, []string{"127.0.0.1:5353", "10.244.0.1:53", "127.0.0.2:53"}) ||
		!slices.Equal(cfg.Upstreams, []string{"127.0.0.1:5300"}) || cfg.TTL != 30*time.Second || cfg.ClusterDomain != "example.internal" || !cfg.PublishService {
		t.Fatalf("parsed = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if addr, port := cfg.advertised(); addr != "127.0.0.1" || port != 5353 {
		t.Fatalf("advertised = %s:%d, want the first listen IP and the --advertise-port", addr, port)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no listen address", func(c *Config) { c.ListenAddresses = nil }, "--listen"},
		{"listen on a name", func(c *Config) { c.ListenAddresses = []string{"localhost:53"} }, `--listen "localhost:53"`},
		{"bad domain", func(c *Config) { c.ClusterDomain = "" }, "--cluster-domain"},
		{"bad service CIDR", func(c *Config) { c.ServiceCIDR = "10.96.0.0" }, "--service-cluster-ip-range"},
		{"TTL below a second", func(c *Config) { c.TTL = time.Millisecond }, "--ttl"},
		{"bad upstream", func(c *Config) { c.Upstreams = []string{"dns.example"} }, `--upstream: upstream "dns.example"`},
		{"bad service IP", func(c *Config) { c.PublishService, c.ServiceIP = true, "10.96.0" }, "--service-ip"},
		{"unspecified advertise address", func(c *Config) { c.PublishService, c.ListenAddresses = true, []string{"0.0.0.0:53"} }, "--advertise-address"},
		{"advertise port 0", func(c *Config) { c.PublishService, c.ListenAddresses = true, []string{"127.0.0.1:0"} }, "--advertise-port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestUpstreamsFromResolvConf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		resolv  string // "" : the file is missing
		change  func(*Config)
		want    []string
		dropped []string // logged as dropped
		err     string
	}{
		{name: "nameservers read", resolv: "search example\nnameserver 127.0.0.53\nnameserver 127.0.0.54\noptions ndots:1\n",
			want: []string{"127.0.0.53:53", "127.0.0.54:53"}},
		{name: "--upstream wins", resolv: "nameserver 127.0.0.53\n", change: func(c *Config) { c.Upstreams = []string{"127.0.0.1:5300"} },
			want: []string{"127.0.0.1:5300"}},
		{name: "--upstream is used even when it is this server", resolv: "nameserver 127.0.0.53\n",
			change: func(c *Config) { c.Upstreams = []string{"10.96.0.10"} }, want: []string{"10.96.0.10"}},
		{name: "Service IP dropped", resolv: "nameserver 10.96.0.10\nnameserver 127.0.0.53\n",
			want: []string{"127.0.0.53:53"}, dropped: []string{"10.96.0.10:53"}},
		{name: "listen address dropped", resolv: "nameserver 10.244.0.1\nnameserver 127.0.0.53\n",
			want: []string{"127.0.0.53:53"}, dropped: []string{"10.244.0.1:53"}},
		{name: "listen IP on another port kept", resolv: "nameserver 127.0.0.1\n",
			change: func(c *Config) { c.ListenAddresses = []string{"127.0.0.1:5353"} }, want: []string{"127.0.0.1:53"}},
		{name: "loopback dropped when listening on all addresses", resolv: "nameserver 127.0.0.53\nnameserver 127.0.0.1\n",
			change: func(c *Config) { c.ListenAddresses = []string{"0.0.0.0:53"}; c.ServiceIP = "10.96.0.11" },
			err:    "127.0.0.53:53 (a --listen address), 127.0.0.1:53 (a --listen address)", dropped: []string{"127.0.0.53:53", "127.0.0.1:53"}},
		{name: "advertised address dropped", resolv: "nameserver 10.244.5.1\nnameserver 127.0.0.53\n",
			change: func(c *Config) { c.PublishService, c.AdvertiseAddress = true, "10.244.5.1" },
			want:   []string{"127.0.0.53:53"}, dropped: []string{"10.244.5.1:53"}},
		{name: "none left", resolv: "nameserver 10.96.0.10\n", dropped: []string{"10.96.0.10:53"},
			err: "no nameserver left, forwarding to 10.96.0.10:53 (the cluster DNS Service IP --service-ip) would loop back to this server; pass --upstream"},
		{name: "no nameserver", resolv: "search example\n", err: "no nameserver; pass --upstream"},
		{name: "missing file", err: "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			dir := t.TempDir()
			cfg.ResolvConf = filepath.Join(dir, "missing")
			if tc.resolv != "" {
				cfg.ResolvConf = filepath.Join(dir, "resolv.conf")
				if err := os.WriteFile(cfg.ResolvConf, []byte(tc.resolv), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.change != nil {
				tc.change(&cfg)
			}
			core, logs := observer.New(zap.InfoLevel)
			got, err := cfg.upstreams(zap.New(core))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), cfg.ResolvConf) {
					t.Fatalf("upstreams = %v, %v; want an error naming %s and %q", got, err, cfg.ResolvConf, tc.err)
				}
			} else if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("upstreams = %v, %v; want %v", got, err, tc.want)
			}
			var dropped []string
			for _, e := range logs.FilterMessage("dns upstream dropped").All() {
				dropped = append(dropped, e.ContextMap()["upstream"].(string))
			}
			if !slices.Equal(dropped, tc.dropped) {
				t.Fatalf("logged as dropped %v, want %v", dropped, tc.dropped)
			}
		})
	}
}

// TestRunRefusesLoopingUpstreams: Run fails at start, before anything
// is served, when resolv.conf names only this server.
func TestRunRefusesLoopingUpstreams(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ResolvConf = filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(cfg.ResolvConf, []byte("nameserver 10.96.0.10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.ListenAddresses, cfg.MetricsAddress = []string{"127.0.0.1:0"}, ""
	err := Run(t.Context(), cfg, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "would loop back to this server") {
		t.Fatalf("Run = %v, want the looping upstream refused", err)
	}
}
