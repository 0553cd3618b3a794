package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestServerSecurity(t *testing.T) {
	ca, err := pki.NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		edit         func(*Config)
		kubeconfigCA []byte
		wantErr      string
		wantOpts     bool
		wantPKI      bool
	}{
		{name: "the kubeconfig's CA, a self-signed pair", kubeconfigCA: ca.CertPEM(), wantOpts: true, wantPKI: true},
		{name: "--client-ca-file", edit: func(c *Config) { c.ClientCAFile = caFile }, wantOpts: true, wantPKI: true},
		{name: "no client CA", wantErr: "needs a client CA"},
		{name: "a client CA file that is no certificate", edit: func(c *Config) { c.ClientCAFile = filepath.Join(c.RootDir, "pki", "kubelet.key") }, kubeconfigCA: ca.CertPEM(), wantErr: "kubelet.key: client CA: no PEM certificate"},
		{name: "a missing client CA file", edit: func(c *Config) { c.ClientCAFile = "/nonexistent/ca.crt" }, wantErr: "--client-ca-file"},
		{name: "--insecure", edit: func(c *Config) { c.Insecure = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.NodeName, cfg.RootDir = "n1", t.TempDir()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			core, logs := observer.New(zap.WarnLevel)
			opts, err := serverSecurity(cfg, tt.kubeconfigCA, zap.New(core))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("serverSecurity = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (len(opts) > 0) != tt.wantOpts {
				t.Errorf("%d server options, want TLS: %v", len(opts), tt.wantOpts)
			}
			_, statErr := os.Stat(filepath.Join(cfg.RootDir, "pki", "kubelet.crt"))
			if (statErr == nil) != tt.wantPKI {
				t.Errorf("kubelet.crt: %v, want it made: %v", statErr, tt.wantPKI)
			}
			if cfg.Insecure && (logs.Len() != 1 || !strings.Contains(logs.All()[0].Message, "INSECURE")) {
				t.Errorf("--insecure warned %v, want one INSECURE warning", logs.All())
			}
		})
	}
}
