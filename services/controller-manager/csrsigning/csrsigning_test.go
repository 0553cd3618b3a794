package csrsigning

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
)

func TestDuration(t *testing.T) {
	secs := func(s int32) *int32 { return &s }
	year := 365 * 24 * time.Hour
	tests := []struct {
		name string
		req  *int32
		max  time.Duration
		want time.Duration
	}{
		{"unset is the limit", nil, year, year},
		{"shorter request", secs(3600), year, time.Hour},
		{"longer request is capped", secs(10 * 365 * 24 * 3600), year, year},
		{"at least ten minutes", secs(60), year, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Duration(tt.req, tt.max); got != tt.want {
				t.Fatalf("Duration = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUsages(t *testing.T) {
	ext, ku, err := Usages([]string{"digital signature", "key encipherment", "client auth"})
	if err != nil || len(ext) != 1 || ext[0] != x509.ExtKeyUsageClientAuth || ku != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment {
		t.Fatalf("Usages = %v, %v, %v", ext, ku, err)
	}
	if _, _, err := Usages([]string{"server auth"}); err == nil || !strings.Contains(err.Error(), `usage "server auth" is not issued`) {
		t.Fatalf("server auth: %v", err)
	}
}

func TestLoadCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.Dir(filepath.Join(dir, "pki")).LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	d := pki.Dir(filepath.Join(dir, "pki"))
	crt, key := d.CertPath(pki.CAName), d.KeyPath(pki.CAName)
	got, err := LoadCA(crt, key)
	if err != nil || !got.Cert.Equal(ca.Cert) {
		t.Fatalf("LoadCA = %v, %v", got, err)
	}
	other, err := pki.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	otherCrt := filepath.Join(dir, "other.crt")
	if err := os.WriteFile(otherCrt, other.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(otherCrt, key); err == nil || !strings.Contains(err.Error(), "does not belong to") {
		t.Errorf("mismatched key: %v", err)
	}
	if _, err := LoadCA(filepath.Join(dir, "missing.crt"), key); err == nil || !strings.Contains(err.Error(), "--cluster-signing-cert-file") {
		t.Errorf("missing certificate: %v", err)
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(crt, key); err == nil || !strings.Contains(err.Error(), "--cluster-signing-key-file") {
		t.Errorf("world-readable key: %v", err)
	}
}
