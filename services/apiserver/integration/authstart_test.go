package integration

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// TestSecureTLSOnly checks the serving certificate: names and the TLS
// versions a client must speak.
func TestSecureTLSOnly(t *testing.T) {
	t.Parallel()
	s := start(t, options{advertiseAddress: "127.0.0.2", serviceCIDR: "10.100.0.0/16"})
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.ca.Pool(), ServerName: "kubernetes.default.svc", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS as kubernetes.default.svc: %v", err)
	}
	conn.Close()
	if _, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.ca.Pool(), ServerName: "example.com", MinVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("the serving certificate is valid for example.com")
	}
	dir := pki.Dir(filepath.Join(s.dataDir, "pki"))
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{string(dir), 0o700}, {dir.KeyPath("ca"), 0o600}, {dir.KeyPath("apiserver"), 0o600},
		{dir.KeyPath(app.KubeletClientName), 0o600}, {filepath.Join(string(dir), "sa.key"), 0o600},
		{dir.CertPath("ca"), 0o644}, {dir.CertPath("apiserver"), 0o644}, {dir.CertPath(app.KubeletClientName), 0o644},
	} {
		st, err := os.Stat(f.path)
		if err != nil || st.Mode().Perm() != f.mode {
			t.Errorf("%s: mode %v, %v; want %v", f.path, st.Mode().Perm(), err, f.mode)
		}
	}
	serving, err := dir.Load("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, name := range []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", host} {
		if !slices.Contains(serving.Cert.DNSNames, name) {
			t.Errorf("serving certificate lacks DNS name %q: %v", name, serving.Cert.DNSNames)
		}
	}
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "10.100.0.1", "10.96.0.1"} {
		if !slices.ContainsFunc(serving.Cert.IPAddresses, net.ParseIP(ip).Equal) {
			t.Errorf("serving certificate lacks IP %s: %v", ip, serving.Cert.IPAddresses)
		}
	}
	kc, err := dir.Load(app.KubeletClientName)
	if err != nil {
		t.Fatal(err)
	}
	if kc.Cert.Subject.CommonName != "kube-apiserver-kubelet-client" || len(kc.Cert.Subject.Organization) != 0 || s.ca.Verify(kc.Cert, x509.ExtKeyUsageClientAuth) != nil {
		t.Errorf("kubelet client certificate %v, want CN kube-apiserver-kubelet-client in no group, signed by the CA for client auth", kc.Cert.Subject)
	}
}

// TestSecureKubeconfig dials a TLS apiserver through the client module from
// a kubeconfig file that references its CA, certificate and key by relative
// paths, and from one with a bearer token.
func TestSecureKubeconfig(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("dave-token,dave,1004\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, options{tokenFile: tokenFile})
	dir := t.TempDir()
	admin := s.issue(t, s.ca, adminUser, pki.GroupMasters)
	for name, data := range map[string][]byte{"ca.crt": s.ca.CertPEM(), "admin.crt": admin.cert, "admin.key": admin.key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := `apiVersion: v1
kind: Config
clusters:
- name: tugboat
  cluster:
    server: https://` + s.addr + `
    certificate-authority: ca.crt
users:
- name: admin
  user:
    client-certificate: admin.crt
    client-key: admin.key
- name: dave
  user:
    token: dave-token
contexts:
- name: admin
  context: {cluster: tugboat, user: admin}
- name: dave
  context: {cluster: tugboat, user: dave, namespace: team-b}
current-context: admin
`
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	dial := func(context string) *clientset.Set {
		cfg, err := config.Load(path, context)
		if err != nil {
			t.Fatalf("load %s: %v", context, err)
		}
		conn, err := config.Dial(ctx(t), cfg)
		if err != nil {
			t.Fatalf("dial %s: %v", context, err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return clientset.New(conn)
	}
	if _, err := dial("admin").Nodes().List(ctx(t), &metav1.ListOptions{}); err != nil {
		t.Fatalf("admin from a kubeconfig file: %v", err)
	}
	_, err := dial("dave").Pods().List(ctx(t), &metav1.ListOptions{Namespace: "team-b"})
	wantGRPC(t, err, codes.PermissionDenied, `User "dave" cannot list resource "pods" in API group "" in the namespace "team-b"`)
}

// TestSecureRefusesBadFiles: a private key readable by others, or a
// malformed token file, stops the start before etcd is opened.
func TestSecureRefusesBadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string, cfg *app.Config)
		wantErr string
	}{
		{"ca key readable by others", func(t *testing.T, dir string, cfg *app.Config) {
			d := pki.Dir(filepath.Join(dir, "pki"))
			if _, err := d.LoadOrCreateCA(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d.KeyPath(pki.CAName), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg.Security.CertDir = string(d)
		}, "ca.key has mode 0644: it must be 0600 or stricter"},
		{"pki directory writable by others", func(t *testing.T, dir string, cfg *app.Config) {
			p := filepath.Join(dir, "pki")
			if err := os.Mkdir(p, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o777); err != nil {
				t.Fatal(err)
			}
			cfg.Security.CertDir = p
		}, "has mode 0777: it must not be writable by group or others"},
		{"malformed token file", func(t *testing.T, dir string, cfg *app.Config) {
			p := filepath.Join(dir, "tokens")
			if err := os.WriteFile(p, []byte("only-a-token\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg.Security.TokenAuthFile = p
		}, "line 1: want token,user,uid"},
		{"RBAC without authentication", func(t *testing.T, dir string, cfg *app.Config) {
			cfg.Security.TLSCertFile, cfg.Security.TLSKeyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
			cfg.Security.BootstrapTokenAuth = false
			cfg.Security.AuthorizationModes = []string{app.ModeRBAC}
		}, "--authorization-mode=RBAC needs authentication"},
		{"data directory writable by others", func(t *testing.T, dir string, cfg *app.Config) {
			if err := os.Mkdir(cfg.DataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(cfg.DataDir, 0o757); err != nil {
				t.Fatal(err)
			}
		}, "has mode 0757: it must not be writable by group or others"},
		{"the default cert dir writable by group", func(t *testing.T, dir string, cfg *app.Config) {
			p := filepath.Join(cfg.DataDir, "pki")
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o770); err != nil {
				t.Fatal(err)
			}
		}, "has mode 0770: it must not be writable by group or others"},
		{"sa.key readable by others", func(t *testing.T, dir string, cfg *app.Config) {
			p := filepath.Join(cfg.DataDir, "pki")
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "sa.key"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "sa.key has mode 0644: it must be 0600 or stricter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := app.DefaultConfig()
			cfg.ListenAddress = "127.0.0.1:0"
			cfg.DataDir = filepath.Join(dir, "data")
			tt.prepare(t, dir, &cfg)
			err := app.Run(ctx(t), cfg, zap.NewNop())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run = %v, want %q", err, tt.wantErr)
			}
			if _, err := os.Stat(filepath.Join(cfg.DataDir, "etcd")); !os.IsNotExist(err) {
				t.Fatalf("etcd's data dir exists after a refused start: %v", err)
			}
		})
	}
}
