package app

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no workers", func(c *Config) { c.Workers = 0 }, "--concurrent-syncs"},
		{"unknown controller", func(c *Config) { c.Controllers = []string{"replicaset", "endpoints"} }, `unknown controller "endpoints"`},
		{"bad cluster CIDR", func(c *Config) { c.ClusterCIDR = "10.244.0.0" }, "--cluster-cidr"},
		{"mask too short", func(c *Config) { c.NodeCIDRMaskSize = 16 }, "--node-cidr-mask-size"},
		{"bad CIDR ignored without IPAM", func(c *Config) { c.ClusterCIDR = "nope"; c.AllocateNodeCIDRs = false }, ""},
		{"lease without a name", func(c *Config) { c.LeaderElect = true; c.LeaseName = "" }, "--leader-elect"},
		{"no grace", func(c *Config) { c.NodeMonitorGracePeriod = 0 }, "--node-monitor-grace-period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestControllersFlag(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse([]string{"--controllers", "deployment,replicaset", "--node-monitor-grace-period", "20s"}); err != nil {
		t.Fatal(err)
	}
	if !c.enabled("deployment") || !c.enabled("replicaset") || c.enabled("job") || c.NodeMonitorGracePeriod.Seconds() != 20 {
		t.Fatalf("flags parsed to %+v", c)
	}
	if !slices.IsSorted(Names()) || len(Names()) != 13 {
		t.Fatalf("Names() = %v, want the 13 controllers sorted", Names())
	}
}
