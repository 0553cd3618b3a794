package cluster

import (
	"context"
	"crypto/x509"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
)

func TestCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	o := CertsOptions{CertDir: dir, AdvertiseAddress: "169.254.10.1", ExtraSANs: []string{"apiserver", "192.0.2.7"}}
	ca, err := Certs(o)
	if err != nil {
		t.Fatal(err)
	}
	d := pki.Dir(dir)
	t.Run("files and modes", func(t *testing.T) {
		want := map[string]os.FileMode{
			"ca.crt": 0o644, "ca.key": 0o600, "apiserver.crt": 0o644, "apiserver.key": 0o600,
			"apiserver-kubelet-client.crt": 0o644, "apiserver-kubelet-client.key": 0o600, "sa.key": 0o600,
			"etcd/ca.crt": 0o644, "etcd/ca.key": 0o600, "etcd/server.crt": 0o644, "etcd/server.key": 0o600,
			"apiserver-etcd-client.crt": 0o644, "apiserver-etcd-client.key": 0o600,
		}
		for name, mode := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %#o, want %#o", name, fi.Mode().Perm(), mode)
			}
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("cert dir: %v, %v; want 0700", fi.Mode().Perm(), err)
		}
		b, err := os.ReadFile(filepath.Join(dir, SAKeyName))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pki.ParseKey(b); err != nil {
			t.Errorf("sa.key: %v", err)
		}
	})
	t.Run("serving SANs", func(t *testing.T) {
		kp, err := d.Load(pki.APIServerName)
		if err != nil {
			t.Fatal(err)
		}
		if err := ca.Verify(kp.Cert, x509.ExtKeyUsageServerAuth); err != nil {
			t.Fatal(err)
		}
		for _, ip := range []string{"127.0.0.1", "10.96.0.1", "169.254.10.1", "192.0.2.7"} {
			if !slices.ContainsFunc(kp.Cert.IPAddresses, net.ParseIP(ip).Equal) {
				t.Errorf("serving certificate lacks IP %s: %v", ip, kp.Cert.IPAddresses)
			}
		}
		host, _ := os.Hostname()
		for _, n := range []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "apiserver", host} {
			if !slices.Contains(kp.Cert.DNSNames, n) {
				t.Errorf("serving certificate lacks name %s: %v", n, kp.Cert.DNSNames)
			}
		}
	})
	t.Run("kubelet client", func(t *testing.T) {
		kp, err := d.Load("apiserver-kubelet-client")
		if err != nil {
			t.Fatal(err)
		}
		if err := ca.Verify(kp.Cert, x509.ExtKeyUsageClientAuth); err != nil {
			t.Error(err)
		}
		if kp.Cert.Subject.CommonName != "kube-apiserver-kubelet-client" || len(kp.Cert.Subject.Organization) != 0 {
			t.Errorf("subject %v, want CN kube-apiserver-kubelet-client in no group", kp.Cert.Subject)
		}
	})
	t.Run("again keeps them", func(t *testing.T) {
		read := func() map[string]string {
			out := map[string]string{}
			for _, n := range []string{"ca.crt", "ca.key", "apiserver.crt", "apiserver-kubelet-client.crt", "sa.key"} {
				b, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				out[n] = string(b)
			}
			return out
		}
		before := read()
		if _, err := Certs(o); err != nil {
			t.Fatal(err)
		}
		for n, b := range read() {
			if b != before[n] {
				t.Errorf("%s was rewritten", n)
			}
		}
	})
}

func TestCertsRefuses(t *testing.T) {
	loose := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    CertsOptions
		want string
	}{
		{"no dir", CertsOptions{}, "--cert-dir: a directory is required"},
		{"bad advertise address", CertsOptions{CertDir: filepath.Join(t.TempDir(), "pki"), AdvertiseAddress: "node-1"}, `--apiserver-advertise-address "node-1" is not an IP address`},
		{"dir writable by others", CertsOptions{CertDir: loose}, "must not be writable by group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Certs(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Certs = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("sa.key readable by others", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pki")
		if _, err := Certs(CertsOptions{CertDir: dir}); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, SAKeyName), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Certs(CertsOptions{CertDir: dir}); err == nil || !strings.Contains(err.Error(), "it must be 0600 or stricter") {
			t.Fatalf("Certs = %v, want the sa.key's mode refused", err)
		}
	})
}

// TestCertsAreTheAPIServers: an apiserver started on the cert dir the
// certs phase wrote (with the same advertise address and extra names)
// serves with those files and rewrites none of them.
func TestCertsAreTheAPIServers(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	if _, err := Certs(CertsOptions{CertDir: certDir, AdvertiseAddress: "127.0.0.1", ExtraSANs: []string{"apiserver"}}); err != nil {
		t.Fatal(err)
	}
	read := func() map[string]string {
		out := map[string]string{}
		err := filepath.WalkDir(certDir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			out[path] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := read()
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "etcd")
	cfg.UnsafeNoFsync = true
	cfg.AdvertiseAddress = "127.0.0.1"
	cfg.Security.CertDir = certDir
	cfg.Security.TLSSANs = []string{"apiserver"}
	cfg.Security.AuditLogPath = "none"
	ready := make(chan struct{})
	cfg.OnReady = func(net.Addr) { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- apiserver.Run(ctx, cfg, zap.NewNop()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apiserver: %v", err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		done <- err
		t.Fatalf("apiserver: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("apiserver not ready after 60s")
	}
	after := read()
	if len(after) != len(before) {
		t.Errorf("the apiserver changed the cert dir's files: %d before, %d after", len(before), len(after))
	}
	for name, b := range before {
		if after[name] != b {
			t.Errorf("the apiserver rewrote %s", name)
		}
	}
}
