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
		{"external etcd", []string{"--etcd-servers", "http://127.0.0.1:2379, http://10.0.0.2:2379"}, ""},
		{"https etcd without client TLS", []string{"--etcd-servers", "https://127.0.0.1:2379"}, "set --etcd-cafile, --etcd-certfile and --etcd-keyfile"},
		{"https etcd with only a CA", []string{"--etcd-servers", "https://127.0.0.1:2379", "--etcd-cafile", "ca.crt"}, "set --etcd-cafile, --etcd-certfile and --etcd-keyfile"},
		{"https etcd with client TLS", []string{"--etcd-servers", "https://127.0.0.1:2379", "--etcd-cafile", "ca.crt", "--etcd-certfile", "c.crt", "--etcd-keyfile", "c.key"}, ""},
		{"etcd certificate without its key", []string{"--etcd-servers", "https://127.0.0.1:2379", "--etcd-cafile", "ca.crt", "--etcd-certfile", "c.crt"}, "--etcd-certfile and --etcd-keyfile go together"},
		{"etcd client TLS with embedded etcd", []string{"--etcd-cafile", "ca.crt"}, "are for external etcd: set --etcd-servers"},
		{"endpoint without a scheme", []string{"--etcd-servers", "127.0.0.1:2379"}, `--etcd-servers: "127.0.0.1:2379" is not an etcd endpoint URL`},
		{"endpoint with another scheme", []string{"--etcd-servers", "http://127.0.0.1:2379,unix:///run/etcd.sock"}, `"unix:///run/etcd.sock" is not an etcd endpoint URL`},
		{"endpoint without a host", []string{"--etcd-servers", "http://"}, `"http://" is not an etcd endpoint URL`},
		{"embedded etcd without a data dir", []string{"--data-dir="}, "--data-dir is required for the embedded etcd"},
		{"no listen address", []string{"--listen-address="}, "--listen-address is required"},
		{"a certificate without its key", []string{"--tls-cert-file", "c.pem"}, "--tls-cert-file and --tls-private-key-file go together"},
		{"insecure alone", []string{"--insecure"}, ""},
		{"an empty authorization mode", []string{"--authorization-mode="}, "--authorization-mode is empty"},
		{"AlwaysAllow without --insecure", []string{"--authorization-mode", "AlwaysAllow"}, "--authorization-mode=AlwaysAllow: AlwaysAllow makes anyone authenticated cluster-admin; it is allowed only with --insecure"},
		{"AlwaysAllow with RBAC", []string{"--authorization-mode", "RBAC,AlwaysAllow"}, "it is allowed only with --insecure"},
		{"RBAC alone", []string{"--authorization-mode", "RBAC"}, ""},
		{"insecure with external etcd and no data dir", []string{"--insecure", "--etcd-servers", "http://127.0.0.1:2379", "--data-dir=", "--encryption-key-file", "k"}, ""},
		{"secure with external etcd and no data dir", []string{"--etcd-servers", "http://127.0.0.1:2379", "--data-dir=", "--encryption-key-file", "k"}, "with no --data-dir, set --cert-dir"},
		{"external etcd, no data dir, a cert dir", []string{"--etcd-servers", "http://127.0.0.1:2379", "--data-dir=", "--encryption-key-file", "k", "--cert-dir", "/tmp/pki"}, ""},
		{"insecure with --cert-dir", []string{"--insecure", "--cert-dir", "/tmp/pki"}, "--insecure cannot be combined with --cert-dir"},
		{"insecure with --tls-cert-file", []string{"--tls-cert-file", "c.pem", "--tls-private-key-file", "k.pem", "--insecure"}, "--insecure cannot be combined with --tls-cert-file"},
		{"insecure with --client-ca-file", []string{"--insecure", "--client-ca-file", "ca.pem"}, "--insecure cannot be combined with --client-ca-file"},
		{"insecure with --token-auth-file", []string{"--insecure", "--token-auth-file", "t.csv"}, "--insecure cannot be combined with --token-auth-file"},
		{"insecure with the default authorization mode given", []string{"--insecure", "--authorization-mode", "Node,RBAC"}, "--insecure cannot be combined with --authorization-mode"},
		{"insecure with --authorization-mode=AlwaysAllow", []string{"--insecure", "--authorization-mode", "AlwaysAllow"}, "--insecure cannot be combined with --authorization-mode"},
		{"insecure with bootstrap tokens", []string{"--insecure", "--enable-bootstrap-token-auth"}, "--insecure cannot be combined with --enable-bootstrap-token-auth"},
		{"insecure with --anonymous-auth=false", []string{"--insecure", "--anonymous-auth=false"}, "--insecure cannot be combined with --anonymous-auth"},
		{"insecure with --kubelet-client-certificate", []string{"--insecure", "--kubelet-client-certificate", "c.pem"}, "--insecure cannot be combined with --kubelet-client-certificate"},
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

// TestSecureDefaults: with no flag the server is secure; --insecure turns
// everything off.
func TestSecureDefaults(t *testing.T) {
	parse := func(t *testing.T, args ...string) Config {
		t.Helper()
		cfg := DefaultConfig()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		cfg.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Run("defaults", func(t *testing.T) {
		cfg := parse(t, "--data-dir", "/srv/api")
		s := cfg.Security
		if s.CertDir != "/srv/api/pki" || !s.TLS() || !s.BootstrapTokenAuth || !s.AnonymousAuth || strings.Join(s.AuthorizationModes, ",") != "Node,RBAC" || s.Insecure {
			t.Fatalf("defaults = %+v, want cert dir /srv/api/pki, TLS, bootstrap tokens, anonymous, Node,RBAC", s)
		}
	})
	t.Run("a serving certificate replaces the cert dir", func(t *testing.T) {
		if s := parse(t, "--tls-cert-file", "c.pem", "--tls-private-key-file", "k.pem").Security; s.CertDir != "" {
			t.Fatalf("cert dir %q with --tls-cert-file", s.CertDir)
		}
	})
	t.Run("insecure", func(t *testing.T) {
		s := parse(t, "--insecure").Security
		if s.CertDir != "" || s.TLS() || s.BootstrapTokenAuth || s.AnonymousAuth || !s.alwaysAllow() {
			t.Fatalf("--insecure = %+v, want no TLS, no authentication, AlwaysAllow", s)
		}
	})
}
