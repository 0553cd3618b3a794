package app

import (
	"flag"
	"strings"
	"testing"
)

func TestValidateNamesTheBadFlag(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no runtime", func(c *Config) {}, "--runtime-endpoint or --managed-containerd"},
		{"both runtimes", func(c *Config) { c.RuntimeEndpoint = "unix:///x"; c.ManagedContainerd = true }, "exclude each other"},
		{"bad node ip", func(c *Config) { c.ManagedContainerd = true; c.NodeIP = "node" }, "--node-ip"},
		{"bad pod cidr", func(c *Config) { c.ManagedContainerd = true; c.PodCIDR = "10.244.0.0" }, "--pod-cidr"},
		{"bad labels", func(c *Config) { c.ManagedContainerd = true; c.Labels = "a=b,c" }, `--node-labels: "c"`},
		{"too wide", func(c *Config) { c.ManagedContainerd = true; c.ClusterCIDR = "10.0.0.0/8"; c.PodCIDR = "10.1.0.0/24" }, "wider than /12"},
		{"pod outside cluster", func(c *Config) { c.ManagedContainerd = true; c.PodCIDR = "10.245.0.0/24" }, "not inside --cluster-cidr"},
		{"overlap", func(c *Config) { c.ManagedContainerd = true; c.ServiceCIDR = "10.244.0.0/16" }, "overlaps"},
		{"public", func(c *Config) { c.ManagedContainerd = true; c.ServiceCIDR = "8.8.0.0/16" }, "private IPv4"},
		{"negative hollow", func(c *Config) { c.HollowNodes = -1 }, "--hollow-nodes"},
		{"port", func(c *Config) { c.ManagedContainerd = true; c.Port = 70000 }, "--port"},
		{"cluster dns", func(c *Config) { c.ManagedContainerd = true; c.ClusterDNS = []string{"10.96.0.10", "dns"} }, `--cluster-dns "dns" is not an IP address`},
		{"four cluster dns", func(c *Config) {
			c.ManagedContainerd = true
			c.ClusterDNS = []string{"10.96.0.10", "10.96.0.11", "10.96.0.12", "10.96.0.13"}
		}, "at most 3"},
		{"cluster domain", func(c *Config) { c.ManagedContainerd = true; c.ClusterDomain = "cluster.local." }, "--cluster-domain"},
		{"half a serving pair", func(c *Config) { c.ManagedContainerd = true; c.TLSCertFile = "/c" }, "--tls-cert-file and --tls-private-key-file go together"},
		{"insecure with TLS", func(c *Config) { c.ManagedContainerd = true; c.Insecure = true; c.ClientCAFile = "/ca" }, "--insecure serves plaintext"},
		{"bootstrap without kubeconfig", func(c *Config) { c.ManagedContainerd = true; c.BootstrapKubeconfig = "/b" }, "--bootstrap-kubeconfig needs --kubeconfig"},
		{"bootstrap hollow", func(c *Config) { c.HollowNodes = 2; c.Kubeconfig = "/k"; c.BootstrapKubeconfig = "/b" }, "--bootstrap-kubeconfig and --hollow-nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.NodeName = "n"
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	ok := DefaultConfig()
	ok.NodeName, ok.ManagedContainerd = "n", true
	if err := ok.Validate(); err != nil {
		t.Errorf("defaults with a managed containerd: %v", err)
	}
	hollow := DefaultConfig()
	hollow.NodeName, hollow.HollowNodes = "h", 3
	if err := hollow.Validate(); err != nil {
		t.Errorf("hollow nodes need no runtime: %v", err)
	}
}

func TestParseLabels(t *testing.T) {
	got, err := parseLabels("a=b, c = d,e=")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["a"] != "b" || got["c"] != "d" || got["e"] != "" {
		t.Errorf("got %v", got)
	}
}

// --pod-cidr is the node's only when given: unset, the Config (whatever
// DefaultConfig had, for in-process callers) is left without one, and
// Validate accepts that.
func TestPodCIDRFlagOnlyWhenGiven(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--pod-cidr", "10.244.5.0/24"}, "10.244.5.0/24"},
	} {
		c := DefaultConfig()
		c.NodeName, c.ManagedContainerd = "n", true
		fs := flag.NewFlagSet("kubelet", flag.ContinueOnError)
		c.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if c.PodCIDR != tc.want {
			t.Errorf("flags %v: PodCIDR = %q, want %q", tc.args, c.PodCIDR, tc.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("flags %v: Validate = %v", tc.args, err)
		}
	}
	if c := DefaultConfig(); c.PodCIDR != "10.244.0.0/24" {
		t.Errorf("DefaultConfig().PodCIDR = %q: an in-process kubelet (tug up) keeps 10.244.0.0/24", c.PodCIDR)
	}
	if got := placeholderPodCIDR("10.244.0.0/16"); got != "10.244.0.0/24" {
		t.Errorf("placeholderPodCIDR = %s", got)
	}
}

func TestClusterDNSFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "10.96.0.10"},
		{"comma list", []string{"--cluster-dns", "10.96.0.10, 10.96.0.11"}, "10.96.0.10|10.96.0.11"},
		{"empty", []string{"--cluster-dns", ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			fs := flag.NewFlagSet("kubelet", flag.ContinueOnError)
			c.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.ClusterDNS, "|"); got != tc.want {
				t.Errorf("ClusterDNS = %q, want %q", got, tc.want)
			}
			if c.ClusterDomain != "cluster.local" || c.ResolvConf != "/etc/resolv.conf" {
				t.Errorf("domain %q, resolv.conf %q", c.ClusterDomain, c.ResolvConf)
			}
		})
	}
}
