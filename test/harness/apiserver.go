package harness

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// maxMessageBytes lets test clients send and receive large lists.
const maxMessageBytes = 64 << 20

// AdminUser is the user of the admin kubeconfig, in group system:masters.
const AdminUser = "kubernetes-admin"

// APIServer is an apiserver running in the test's process, secure as a
// cluster runs it: TLS from a cert dir, client certificates, bootstrap
// tokens and Node,RBAC authorisation.
type APIServer struct {
	// Addr is the host:port serving gRPC and REST.
	Addr string
	// URL is https://Addr.
	URL string
	// CertDir is the apiserver's pki directory (<DataDir>/pki): the
	// cluster CA, its serving certificate, the service-account key.
	CertDir string
	// CA is the cluster CA, which issues the tests' client certificates.
	CA *pki.CA
	// Kubeconfig is the path of an admin kubeconfig (user
	// kubernetes-admin, group system:masters). Components get their own
	// identities from KubeconfigFor instead.
	Kubeconfig string
	// Client talks to the server over one gRPC connection as the admin.
	Client *clientset.Set
	// DataDir holds the embedded etcd's data.
	DataDir string
	// Fsync reports whether the embedded etcd syncs its writes to disk:
	// false, the harness trades durability for speed (etcd's
	// --unsafe-no-fsync). Benchmarks say so next to their figures.
	Fsync bool
	// Config is the configuration it runs with.
	Config app.Config

	admin *pki.KeyPair
	dir   string
}

// APIServerOptions choose how a test apiserver runs.
type APIServerOptions struct {
	// Configure, when set, adjusts the configuration before it runs.
	Configure func(*app.Config)
}

// StartAPIServer runs the apiserver on 127.0.0.1 at a free port with an
// embedded etcd in t.TempDir(), serving TLS with a cluster CA it creates
// under <data dir>/pki, authenticating client certificates and bootstrap
// tokens and authorising with Node,RBAC (set here explicitly, whatever the
// defaults). It waits until /readyz answers 200, writes an admin
// kubeconfig and dials it. Everything stops on t.Cleanup.
func StartAPIServer(t testing.TB, opts ...APIServerOptions) *APIServer {
	t.Helper()
	s := &APIServer{DataDir: t.TempDir(), dir: t.TempDir()}
	cfg := app.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = s.DataDir
	cfg.UnsafeNoFsync = true
	s.Fsync = !cfg.UnsafeNoFsync
	cfg.CompactionInterval = 0
	cfg.Security.CertDir = filepath.Join(s.DataDir, "pki")
	cfg.Security.AuthorizationModes = []string{app.ModeNode, app.ModeRBAC}
	cfg.Security.BootstrapTokenAuth = true
	cfg.Security.AnonymousAuth = true
	for _, o := range opts {
		if o.Configure != nil {
			o.Configure(&cfg)
		}
	}
	s.Config = cfg
	s.CertDir = cfg.Security.CertDir
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }
	c := run(t, "apiserver", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })

	select {
	case a := <-ready:
		s.Addr = a.String()
	case err := <-c.done:
		c.done <- err
		t.Fatalf("apiserver exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("apiserver did not report its address within %v", StartTimeout)
	}
	s.URL = "https://" + s.Addr
	// The apiserver created the CA in its cert dir before it listened.
	ca, err := pki.Dir(s.CertDir).Load(pki.CAName)
	if err != nil {
		t.Fatalf("load the apiserver's CA from its cert dir %s: %v", s.CertDir, err)
	}
	s.CA = (*pki.CA)(ca)
	if s.admin, err = s.CA.IssueClient(AdminUser, []string{pki.GroupMasters}, certValidity); err != nil {
		t.Fatal(err)
	}
	waitHTTPReady(t, s.HTTPClient(), s.URL+"/readyz")

	s.Kubeconfig = s.writeKubeconfig(t, s.dir, "admin", s.admin)
	s.Client = s.ClientFor(t, s.Kubeconfig)
	ctx := Context(t, StartTimeout)
	Poll(t, StartTimeout, "the apiserver answers the admin", func() (bool, string) {
		if _, err := s.Client.Namespaces().Get(ctx, &metav1.GetOptions{Name: "kube-public"}); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return s
}

// waitHTTPReady polls url until it answers 200.
func waitHTTPReady(t testing.TB, hc *http.Client, url string) {
	t.Helper()
	defer hc.CloseIdleConnections()
	Poll(t, StartTimeout, "GET "+url+" answers 200", func() (bool, string) {
		resp, err := hc.Get(url)
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// ClientFor dials the apiserver with a kubeconfig file (as KubeconfigFor
// writes); the connection closes on t.Cleanup.
func (s *APIServer) ClientFor(t testing.TB, kubeconfig string) *clientset.Set {
	t.Helper()
	kc, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	return s.Dial(t, kc)
}

// Dial connects with cfg (a Server and credentials of the test's
// choosing); the connection closes on t.Cleanup, before the apiserver
// stops when the apiserver was started first.
func (s *APIServer) Dial(t testing.TB, cfg *config.Config) *clientset.Set {
	t.Helper()
	conn, err := config.Dial(context.Background(), cfg,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		t.Fatalf("dial apiserver: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return clientset.New(conn)
}
