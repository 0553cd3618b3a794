package integration

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"go.uber.org/zap"
)

// secureCluster is an apiserver with TLS from a --cert-dir, client
// certificates, bootstrap tokens, anonymous requests and Node,RBAC, as
// tug init will run it.
type secureCluster struct {
	// api is the admin's view (system:masters), for the harness.
	api *harness.APIServer
	ca  *pki.CA
	dir string
}

// startSecureCluster runs it in-process on a free loopback port; it stops
// on t.Cleanup.
func startSecureCluster(t *testing.T) *secureCluster {
	t.Helper()
	dir := t.TempDir()
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.UnsafeNoFsync = true
	cfg.CompactionInterval = 0
	cfg.Security.CertDir = filepath.Join(dir, "pki")
	cfg.Security.AuthorizationModes = []string{apiserver.ModeNode, apiserver.ModeRBAC}
	cfg.Security.BootstrapTokenAuth = true
	cfg.Security.AnonymousAuth = true
	cfg.Security.AuditLogPath = "none"
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- apiserver.Run(ctx, cfg, zap.NewNop()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apiserver: %v", err)
		}
	})
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		done <- err
		t.Fatalf("apiserver exited before it was ready: %v", err)
	case <-time.After(harness.StartTimeout):
		t.Fatalf("apiserver not ready within %v", harness.StartTimeout)
	}
	ca, err := pki.Dir(cfg.Security.CertDir).LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	c := &secureCluster{ca: ca, dir: dir}
	c.api = &harness.APIServer{Addr: addr, URL: "https://" + addr, DataDir: cfg.DataDir, Fsync: false}
	c.api.Kubeconfig = c.kubeconfig(t, "kubernetes-admin", pki.GroupMasters)
	c.api.Client = c.client(t, c.api.Kubeconfig)
	pollCtx := harness.Context(t, harness.StartTimeout)
	harness.Poll(t, harness.StartTimeout, "the secure apiserver answers the admin", func() (bool, string) {
		if _, err := c.api.Client.Namespaces().Get(pollCtx, &metav1.GetOptions{Name: "kube-public"}); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return c
}

// kubeconfig writes a kubeconfig with a client certificate for user.
func (c *secureCluster) kubeconfig(t *testing.T, user string, groups ...string) string {
	t.Helper()
	kp, err := c.ca.IssueClient(user, groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.dir, user+".kubeconfig")
	if err := config.Write(path, config.KubeconfigSpec{Server: c.api.URL, CAData: c.ca.CertPEM(), CertData: kp.CertPEM(), KeyData: key}); err != nil {
		t.Fatal(err)
	}
	return path
}

// client dials with a kubeconfig file; the connection closes on cleanup.
func (c *secureCluster) client(t *testing.T, kubeconfig string) *clientset.Set {
	t.Helper()
	cfg, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	return c.dial(t, cfg)
}

// dial connects with cfg; the connection closes on cleanup.
func (c *secureCluster) dial(t *testing.T, cfg *config.Config) *clientset.Set {
	t.Helper()
	conn, err := config.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return clientset.New(conn)
}
