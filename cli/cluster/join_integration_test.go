package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/discovery"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	controllermanager "github.com/tugboat-sh/tugboat/services/controller-manager/app"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// joinTimeout bounds each wait of the join tests.
const joinTimeout = 60 * time.Second

// secureCluster is an in-process control plane as tug init runs it: the
// apiserver with TLS from a cert dir, bootstrap tokens, anonymous
// requests and Node,RBAC; the controller-manager's CSR approver and
// signer and bootstrap signer as system:kube-controller-manager; the
// cluster-info ConfigMap published.
type secureCluster struct {
	addr  string
	ca    *pki.CA
	admin *clientset.Set
}

func startSecureCluster(t *testing.T) *secureCluster {
	t.Helper()
	dir := t.TempDir()
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(dir, "etcd")
	cfg.MetricsAddress = ""
	cfg.UnsafeNoFsync = true
	cfg.CompactionInterval = 0
	cfg.Security.CertDir = filepath.Join(dir, "pki")
	cfg.Security.AuthorizationModes = []string{apiserver.ModeNode, apiserver.ModeRBAC}
	cfg.Security.BootstrapTokenAuth = true
	cfg.Security.AnonymousAuth = true
	cfg.Security.AuditLogPath = "none"
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }
	addr := runInBackground(t, "apiserver", func(ctx context.Context) error { return apiserver.Run(ctx, cfg, zap.NewNop()) }, ready)

	certs := pki.Dir(cfg.Security.CertDir)
	ca, err := certs.LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	c := &secureCluster{addr: addr.String(), ca: ca}
	adminConfig := c.kubeconfig(t, dir, "kubernetes-admin", pki.GroupMasters)
	c.admin = dialKubeconfig(t, adminConfig)

	cm := controllermanager.DefaultConfig()
	cm.Kubeconfig = c.kubeconfig(t, dir, pki.UserControllerManager)
	cm.MetricsAddress = ""
	cm.Controllers = []string{"csrapproving", "csrsigning", "bootstrapsigner", "nodeipam"}
	cm.ClusterSigningCertFile, cm.ClusterSigningKeyFile = certs.CertPath(pki.CAName), certs.KeyPath(pki.CAName)
	cmReady := make(chan net.Addr, 1)
	cm.OnReady = func() { cmReady <- nil }
	runInBackground(t, "controller-manager", func(ctx context.Context) error { return controllermanager.Run(ctx, cm, zap.NewNop()) }, cmReady)

	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	poll(t, "cluster-info is published", func() error { return discovery.Publish(ctx, c.admin, "https://"+c.addr, ca.CertPEM()) })
	return c
}

// runInBackground runs a component until the test ends and returns the
// address it reports on ready.
func runInBackground(t *testing.T, name string, run func(ctx context.Context) error, ready <-chan net.Addr) net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		done <- err
		t.Fatalf("%s exited before it was ready: %v", name, err)
	case <-time.After(joinTimeout):
		t.Fatalf("%s not ready within %v", name, joinTimeout)
	}
	return nil
}

// kubeconfig writes a kubeconfig with a client certificate for user.
func (c *secureCluster) kubeconfig(t *testing.T, dir, user string, groups ...string) string {
	t.Helper()
	kp, err := c.ca.IssueClient(user, groups, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, user+".kubeconfig")
	if err := config.Write(path, config.KubeconfigSpec{Server: "https://" + c.addr, CAData: c.ca.CertPEM(), CertData: kp.CertPEM(), KeyData: key}); err != nil {
		t.Fatal(err)
	}
	return path
}

// token stores a bootstrap token for joining, made at made with ttl.
func (c *secureCluster) token(t *testing.T, made time.Time, ttl time.Duration) bootstraptoken.Token {
	t.Helper()
	tok, err := bootstraptoken.Generate()
	if err != nil {
		t.Fatal(err)
	}
	info := bootstraptoken.New(tok, ttl, made, "tug join test")
	info.Usages = []string{bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning}
	info.ExtraGroups = []string{bootstraptoken.DefaultNodeGroup}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	if _, err := c.admin.Secrets().Create(ctx, info.AsSecret()); err != nil {
		t.Fatal(err)
	}
	return tok
}

func dialKubeconfig(t *testing.T, path string) *clientset.Set {
	t.Helper()
	cfg, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return clientset.New(conn)
}

// poll retries f until it succeeds or joinTimeout passes.
func poll(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(joinTimeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, joinTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sentTokens records the bearer tokens the join's calls carry.
type sentTokens struct {
	mu     sync.Mutex
	tokens []string
}

func (s *sentTokens) option() grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if md, ok := metadata.FromOutgoingContext(ctx); ok {
			s.mu.Lock()
			s.tokens = append(s.tokens, md.Get("authorization")...)
			s.mu.Unlock()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	})
}

func (s *sentTokens) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

func joinConfig(t *testing.T, c *secureCluster, tok bootstraptoken.Token, hash string) JoinConfig {
	j := DefaultJoinConfig()
	j.DataDir = t.TempDir()
	j.Endpoint = c.addr
	j.Token = tok.String()
	j.CAHash = hash
	j.NodeName = "joined-1"
	j.Wait = joinTimeout
	return j
}

// TestJoin is tug join against a secure control plane: discovery with
// the token and the CA hash, the bootstrap kubeconfig, and the kubelet
// (over a fake runtime) getting the node's certificate with it and
// registering a Node that the node's own credentials see Ready.
func TestJoin(t *testing.T) {
	c := startSecureCluster(t)
	tok := c.token(t, time.Now(), time.Hour)
	j := joinConfig(t, c, tok, pki.Hash(c.ca.Cert))
	since := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	if _, err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := prepareJoin(ctx, j, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !res.CA.Equal(c.ca.Cert) {
		t.Fatalf("discovered CA %q", res.CA.Subject)
	}
	st, err := os.Stat(j.BootstrapKubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap kubeconfig mode %#o, want 0600", st.Mode().Perm())
	}
	boot, err := config.Load(j.BootstrapKubeconfig(), "")
	if err != nil {
		t.Fatal(err)
	}
	if boot.Server != "https://"+c.addr || boot.Token != tok.String() || len(boot.CertData) != 0 {
		t.Fatalf("bootstrap kubeconfig: server %q, token %q, cert %d bytes", boot.Server, boot.Token, len(boot.CertData))
	}
	if cas, err := pki.ParseCerts(boot.CAData); err != nil || len(cas) != 1 || !cas[0].Equal(c.ca.Cert) {
		t.Fatalf("bootstrap kubeconfig trusts %d certificates (%v), want only the cluster CA", len(cas), err)
	}

	// The node's kubelet as tug join runs it, over a fake runtime.
	var kdone chan error
	runKubelet := func() func() {
		kcfg := joinKubeletConfig(j)
		kcfg.FakeRuntime = true
		kcfg.ManagedContainerd = false
		kcfg.ImageArchives = ""
		kcfg.MetricsAddress = "127.0.0.1:0"
		kcfg.Port = 0
		kcfg.RelistPeriod = time.Second + time.Millisecond
		kctx, kcancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		kdone = done
		go func() { done <- kubelet.Run(kctx, kcfg, zap.NewNop()) }()
		stop := sync.OnceFunc(func() {
			kcancel()
			<-done
		})
		t.Cleanup(stop)
		return stop
	}
	stopKubelet := runKubelet()
	ready := make(chan error, 1)
	go func() { ready <- waitJoinedReady(ctx, j, since) }()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("node %s not Ready: %v", j.NodeName, err)
		}
	case err := <-kdone:
		t.Fatalf("kubelet exited: %v", err)
	}
	if _, err := os.Stat(j.BootstrapKubeconfig()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the bootstrap kubeconfig (the shared token) is still on the node once it is Ready: %v", err)
	}
	kc, err := config.Load(j.KubeletKubeconfig(), "")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCert(kc.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("node certificate: %v", err)
	}
	if cert.Subject.CommonName != pki.NodeUser(j.NodeName) || !slices.Equal(cert.Subject.Organization, []string{pki.GroupNodes}) {
		t.Errorf("node certificate for %v, want %s in %s", cert.Subject, pki.NodeUser(j.NodeName), pki.GroupNodes)
	}
	if kc.Token != "" {
		t.Errorf("the node's kubeconfig keeps the bootstrap token")
	}

	// A restart without the bootstrap kubeconfig: the node's own works.
	stopKubelet()
	if err := j.checkCredentials(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if cfg := joinKubeletConfig(j); cfg.BootstrapKubeconfig != "" {
		t.Fatalf("restart: the kubelet is given the deleted %s", cfg.BootstrapKubeconfig)
	}
	since = time.Now()
	runKubelet()
	go func() { ready <- waitJoinedReady(ctx, j, since) }()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("restarted node %s not Ready: %v", j.NodeName, err)
		}
	case err := <-kdone:
		t.Fatalf("restarted kubelet exited: %v", err)
	}
}

// TestJoinRefuses: a CA hash of another CA is refused before any token
// is sent, and an expired token is refused in one clear sentence; neither
// leaves a bootstrap kubeconfig.
func TestJoinRefuses(t *testing.T) {
	c := startSecureCluster(t)
	good := c.token(t, time.Now(), time.Hour)
	expired := c.token(t, time.Now().Add(-2*time.Hour), time.Hour)
	other, err := pki.NewCA("another cluster")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()

	t.Run("wrong hash", func(t *testing.T) {
		j := joinConfig(t, c, good, pki.Hash(other.Cert))
		var sent sentTokens
		_, err := prepareJoin(ctx, j, good, sent.option())
		if !errors.Is(err, discovery.ErrHashMismatch) || !strings.Contains(err.Error(), "does not match the --discovery-token-ca-cert-hash") {
			t.Fatalf("join = %v, want the hash mismatch", err)
		}
		if n := sent.count(); n != 0 {
			t.Fatalf("%d calls carried a token before the CA was verified", n)
		}
		if _, err := os.Stat(j.BootstrapKubeconfig()); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("bootstrap kubeconfig written: %v", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		j := joinConfig(t, c, expired, pki.Hash(c.ca.Cert))
		// The apiserver's token cache follows the Secrets by a watch:
		// until it has the token, it answers "unknown".
		var err error
		poll(t, "the apiserver says the token expired", func() error {
			_, err = prepareJoin(ctx, j, expired)
			if err != nil && strings.Contains(err.Error(), "expired at") {
				return nil
			}
			return errors.New("join = " + errString(err))
		})
		want := "the cluster refused the bootstrap token " + expired.ID + ": it is unknown or has expired"
		if !errors.Is(err, discovery.ErrTokenRefused) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("join = %q, want one sentence starting %q", err, want)
		}
		if _, err := os.Stat(j.BootstrapKubeconfig()); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("bootstrap kubeconfig written: %v", err)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
