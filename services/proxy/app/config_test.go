package app

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestConfigFlagsAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"nodeport addresses list", []string{"--nodeport-addresses", "192.0.2.0/24, 198.51.100.0/24"}, ""},
		{"cleanup needs no CIDRs", []string{"--cleanup", "--service-cidr", "bogus"}, ""},
		{"bad service CIDR", []string{"--service-cidr", "10.96.0.0/33"}, `--service-cidr: "10.96.0.0/33" is not an IPv4 CIDR`},
		{"missing service CIDR", []string{"--service-cidr", ""}, "--service-cidr is required"},
		{"IPv6 cluster CIDR", []string{"--cluster-cidr", "fd00::/64"}, `--cluster-cidr: "fd00::/64" is not an IPv4 CIDR`},
		{"bad nodeport address", []string{"--nodeport-addresses", "192.0.2.1"}, `--nodeport-addresses: "192.0.2.1" is not an IPv4 CIDR`},
		{"empty table", []string{"--table", ""}, "--table is required"},
		{"empty state dir", []string{"--state-dir", ""}, "--state-dir is required"},
		{"no state dir without localhost NodePorts", []string{"--state-dir", "", "--localhost-nodeports=false"}, ""},
		{"min above max", []string{"--min-sync-period", "2m"}, "--min-sync-period 2m0s must be positive and at most --sync-period 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			fs := flag.NewFlagSet("tug-proxy", flag.ContinueOnError)
			cfg.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("tug-proxy", flag.ContinueOnError)
	cfg.AddFlags(fs)
	_ = fs.Parse([]string{"--nodeport-addresses", "192.0.2.0/24,198.51.100.0/24", "--min-sync-period", "1s"})
	if len(cfg.NodePortAddresses) != 2 || cfg.MinSyncPeriod != time.Second {
		t.Fatalf("parsed %v %v", cfg.NodePortAddresses, cfg.MinSyncPeriod)
	}
}
