package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"google.golang.org/grpc"
)

// adminUser is the secure server's admin client: in system:masters.
const adminUser = "kubernetes-admin"

// creds are a client certificate and key (PEM) and/or a bearer token.
type creds struct {
	cert, key []byte
	token     string
}

// secureClients loads the CA the server created under certDir, points the
// server's HTTP client at https:// as the admin and returns the admin's
// client config.
func (s *server) secureClients(t *testing.T, certDir string) *config.Config {
	t.Helper()
	ca, err := pki.Dir(certDir).LoadOrCreateCA()
	if err != nil {
		t.Fatalf("load the server's CA: %v", err)
	}
	s.ca = ca
	s.admin = s.issue(t, s.ca, adminUser, pki.GroupMasters)
	s.base = "https://" + s.addr
	s.http = s.httpClient(t, s.admin)
	return s.clientConfig(s.admin)
}

// issue makes a client certificate of ca for user in groups.
func (s *server) issue(t *testing.T, ca *pki.CA, user string, groups ...string) creds {
	t.Helper()
	kp, err := ca.IssueClient(user, groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return creds{cert: kp.CertPEM(), key: key}
}

// httpClient is an HTTPS client trusting the cluster CA with c's credentials.
func (s *server) httpClient(t *testing.T, c creds) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.Cert)
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if c.cert != nil {
		pair, err := tls.X509KeyPair(c.cert, c.key)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	var rt http.RoundTripper = &http.Transport{TLSClientConfig: tc}
	if c.token != "" {
		rt = bearer{token: c.token, next: rt}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: rt}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// clientConfig is a client config of c against the server.
func (s *server) clientConfig(c creds) *config.Config {
	return &config.Config{Server: "https://" + s.addr, CAData: s.ca.CertPEM(), CertData: c.cert, KeyData: c.key, Token: c.token}
}

// as returns a clientset with c's credentials, closed at the test's end.
func (s *server) as(t *testing.T, c creds) *clientset.Set {
	t.Helper()
	conn, err := config.Dial(ctx(t), s.clientConfig(c), grpc.WithDefaultCallOptions())
	if err != nil {
		t.Fatalf("dial as %v: %v", c, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return clientset.New(conn)
}

// doAs sends a REST request with c's credentials.
func (s *server) doAs(t *testing.T, c creds, method, path string, body any) response {
	t.Helper()
	saved := s.http
	s.http = s.httpClient(t, c)
	defer func() { s.http = saved }()
	return s.do(t, method, path, body)
}

// kubeconfig is a kubeconfig with the CA and c's credentials inline.
func (s *server) kubeconfig(c creds) string {
	b64 := base64.StdEncoding.EncodeToString
	out := "apiVersion: v1\nkind: Config\nclusters:\n- name: tugboat\n  cluster:\n    server: https://" + s.addr +
		"\n    certificate-authority-data: " + b64(s.ca.CertPEM()) +
		"\nusers:\n- name: u\n  user:\n"
	if c.cert != nil {
		out += "    client-certificate-data: " + b64(c.cert) + "\n    client-key-data: " + b64(c.key) + "\n"
	}
	if c.token != "" {
		out += "    token: " + c.token + "\n"
	}
	if c.cert == nil && c.token == "" {
		out += "    {}\n"
	}
	return out + "contexts:\n- name: tugboat\n  context:\n    cluster: tugboat\n    user: u\n    namespace: default\ncurrent-context: tugboat\n"
}

// wantStatus checks a REST answer's code and that its message holds want.
func wantStatus(t *testing.T, r response, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("HTTP %d %s, want %d", r.code, r.body, code)
	}
	if msg := r.status(t).Message; !strings.Contains(msg, want) {
		t.Fatalf("message %q lacks %q", msg, want)
	}
}

// auditLog is the secure server's audit log.
func (s *server) auditLog() string { return filepath.Join(s.dataDir, "audit.log") }
