package app

import (
	"flag"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" for valid
	}{
		{"defaults: embedded etcd", nil, ""},
		{"an empty --etcd-servers means embedded", []string{"--etcd-servers="}, ""},
		{"external etcd", []string{"--etcd-servers", "http://127.0.0.1:2379, https://10.0.0.2:2379"}, ""},
		{"endpoint without a scheme", []string{"--etcd-servers", "127.0.0.1:2379"}, `--etcd-servers: "127.0.0.1:2379" is not an etcd endpoint URL`},
		{"endpoint with another scheme", []string{"--etcd-servers", "http://127.0.0.1:2379,unix:///run/etcd.sock"}, `"unix:///run/etcd.sock" is not an etcd endpoint URL`},
		{"endpoint without a host", []string{"--etcd-servers", "http://"}, `"http://" is not an etcd endpoint URL`},
		{"embedded etcd without a data dir", []string{"--data-dir="}, "--data-dir is required for the embedded etcd"},
		{"no listen address", []string{"--listen-address="}, "--listen-address is required"},
		{"a certificate without its key", []string{"--tls-cert-file", "c.pem"}, "--tls-cert-file and --tls-private-key-file go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			cfg.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
