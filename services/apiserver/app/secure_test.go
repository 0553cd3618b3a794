package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// TestSetupSecurityCertDir: a secure start fills the cert dir: the
// service-account key, the etcd CA and pairs, and a kubelet client
// certificate in no group; an older one in system:masters is re-issued.
func TestSetupSecurityCertDir(t *testing.T) {
	dataDir := t.TempDir()
	certDir := pki.Dir(filepath.Join(dataDir, "pki"))
	ca, err := certDir.LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	old, err := certDir.LoadOrCreateClient(ca, KubeletClientName, KubeletClientUser, []string{pki.GroupMasters})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	cfg.Security.AuditLogPath = "none"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sec, err := setupSecurity(&cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	kp, err := certDir.Load(KubeletClientName)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Cert.Equal(old.Cert) || kp.Cert.Subject.CommonName != KubeletClientUser || len(kp.Cert.Subject.Organization) != 0 {
		t.Fatalf("kubelet client certificate %v, want a new one for %s in no group", kp.Cert.Subject, KubeletClientUser)
	}
	if sec.etcdTLS == nil {
		t.Fatal("no embedded etcd TLS on a secure start")
	}
	for _, f := range []string{"sa.key", "etcd/ca.crt", "etcd/ca.key", "etcd/server.crt", "etcd/server.key", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"} {
		if _, err := os.Stat(filepath.Join(string(certDir), f)); err != nil {
			t.Errorf("cert dir lacks %s: %v", f, err)
		}
	}
	if cfg.Security.ServiceAccountKeyFile != certDir.KeyPath("sa") {
		t.Errorf("service-account key file %q, want %q", cfg.Security.ServiceAccountKeyFile, certDir.KeyPath("sa"))
	}
}
