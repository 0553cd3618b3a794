package cluster

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
)

func TestKubeconfigs(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	ca, err := Certs(CertsOptions{CertDir: certDir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "conf")
	const server = "https://127.0.0.1:6443"
	paths, err := Kubeconfigs(certDir, server, out, Identities("node-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		file, user string
		groups     []string
	}{
		{"admin.conf", "kubernetes-admin", []string{"system:masters"}},
		{"scheduler.conf", "system:kube-scheduler", nil},
		{"controller-manager.conf", "system:kube-controller-manager", nil},
		{"proxy.conf", "system:kube-proxy", nil},
		{"dns.conf", "system:kube-dns", nil},
		{"kubelet.conf", "system:node:node-1", []string{"system:nodes"}},
	}
	if len(paths) != len(want) {
		t.Fatalf("wrote %v, want %d files", paths, len(want))
	}
	for i, w := range want {
		t.Run(w.file, func(t *testing.T) {
			if paths[i] != filepath.Join(out, w.file) {
				t.Errorf("path %s, want %s", paths[i], filepath.Join(out, w.file))
			}
			fi, err := os.Stat(paths[i])
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
			}
			kc, err := config.Load(paths[i], "")
			if err != nil {
				t.Fatal(err)
			}
			if kc.Server != server || string(kc.CAData) != string(ca.CertPEM()) {
				t.Errorf("server %s, CA embedded %v", kc.Server, string(kc.CAData) == string(ca.CertPEM()))
			}
			cert, err := pki.ParseCert(kc.CertData)
			if err != nil {
				t.Fatal(err)
			}
			if err := ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
				t.Error(err)
			}
			if cert.Subject.CommonName != w.user || !slices.Equal(cert.Subject.Organization, w.groups) {
				t.Errorf("subject %v, want CN %s O %v", cert.Subject, w.user, w.groups)
			}
			if _, err := pki.ParseKey(kc.KeyData); err != nil {
				t.Errorf("embedded key: %v", err)
			}
		})
	}
	t.Run("kept when they fit, rewritten when the server moves", func(t *testing.T) {
		before, _ := os.ReadFile(filepath.Join(out, AdminConf))
		if _, err := Kubeconfigs(certDir, server, out, Identities("node-1")); err != nil {
			t.Fatal(err)
		}
		if again, _ := os.ReadFile(filepath.Join(out, AdminConf)); string(again) != string(before) {
			t.Error("admin.conf was rewritten though it fits")
		}
		if _, err := Kubeconfigs(certDir, "https://127.0.0.1:7443", out, Identities("")); err != nil {
			t.Fatal(err)
		}
		kc, err := config.Load(filepath.Join(out, AdminConf), "")
		if err != nil || kc.Server != "https://127.0.0.1:7443" {
			t.Errorf("admin.conf after the server moved: %+v, %v", kc, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct{ name, certDir, server, want string }{
			{"plaintext server", certDir, "http://127.0.0.1:6443", `--server "http://127.0.0.1:6443": want https://HOST:PORT`},
			{"no scheme", certDir, "127.0.0.1:6443", `want https://HOST:PORT`},
			{"no CA", t.TempDir(), server, "run tug init phase certs first"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "out")
				_, err := Kubeconfigs(tt.certDir, tt.server, dir, Identities(""))
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Kubeconfigs = %v, want an error containing %q", err, tt.want)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("something was written to %s", dir)
				}
			})
		}
	})
}

func TestUserKubeconfigYAML(t *testing.T) {
	ca, err := pki.NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	b, err := UserKubeconfigYAML(ca, "https://127.0.0.1:6443", "jane", []string{"dev", "ops"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jane.conf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	kc, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCert(kc.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "jane" || !slices.Equal(cert.Subject.Organization, []string{"dev", "ops"}) {
		t.Errorf("subject %v", cert.Subject)
	}
	if _, err := UserKubeconfigYAML(ca, "http://127.0.0.1:6443", "jane", nil); err == nil {
		t.Error("a plaintext server was accepted")
	}
	if _, err := UserKubeconfigYAML(ca, "https://127.0.0.1:6443", "", nil); err == nil {
		t.Error("an empty user was accepted")
	}
}
