package harness

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// Component identities (contract of the cluster's default RBAC roles).
const (
	// DNSUser is the cluster DNS server's user.
	DNSUser = "system:kube-dns"
)

// certValidity is how long the tests' client certificates are valid.
const certValidity = 24 * time.Hour

// KubeconfigFor issues a client certificate for user in groups from the
// cluster CA and writes a kubeconfig with it (the CA embedded) in a
// directory of t's. It is how each component gets its own identity.
func (s *APIServer) KubeconfigFor(t testing.TB, user string, groups ...string) string {
	t.Helper()
	kp, err := s.CA.IssueClient(user, groups, certValidity)
	if err != nil {
		t.Fatalf("issue a client certificate for %s: %v", user, err)
	}
	name := strings.NewReplacer(":", "-", "/", "-").Replace(user)
	return s.writeKubeconfig(t, t.TempDir(), name, kp)
}

func (s *APIServer) writeKubeconfig(t testing.TB, dir, name string, kp *pki.KeyPair) string {
	t.Helper()
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".kubeconfig")
	if err := config.Write(path, config.KubeconfigSpec{Server: s.URL, CAData: s.CA.CertPEM(), CertData: kp.CertPEM(), KeyData: key}); err != nil {
		t.Fatal(err)
	}
	return path
}

// HTTPClient returns an HTTP client for the REST API that trusts the
// cluster CA and presents the admin's client certificate.
func (s *APIServer) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion:   tls.VersionTLS12,
		RootCAs:      s.CA.Pool(),
		Certificates: []tls.Certificate{s.admin.TLSCertificate()},
	}}}
}

// ClusterSigningFiles are the CA certificate and key the controller-manager
// signs approved CSRs with (--cluster-signing-cert-file/-key-file).
func (s *APIServer) ClusterSigningFiles() (cert, key string) {
	d := pki.Dir(s.CertDir)
	return d.CertPath(pki.CAName), d.KeyPath(pki.CAName)
}
