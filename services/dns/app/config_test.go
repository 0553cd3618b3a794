package app

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("search example\nnameserver 127.0.0.53\nnameserver 127.0.0.54\noptions ndots:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ResolvConf = path
	got, err := cfg.upstreams()
	if err != nil || !slices.Equal(got, []string{"127.0.0.53:53", "127.0.0.54:53"}) {
		t.Fatalf("upstreams = %v, %v", got, err)
	}
	cfg.Upstreams = []string{"127.0.0.1:5300"}
	if got, _ := cfg.upstreams(); !slices.Equal(got, cfg.Upstreams) {
		t.Fatalf("--upstream ignored: %v", got)
	}
	cfg.Upstreams, cfg.ResolvConf = nil, filepath.Join(t.TempDir(), "missing")
	if _, err := cfg.upstreams(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing resolv.conf: %v", err)
	}
}
