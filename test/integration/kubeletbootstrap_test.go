package integration

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	cmapp "github.com/tugboat-sh/tugboat/services/controller-manager/app"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"go.uber.org/zap"
)

// startNodeSigner runs the controller-manager's CSR approver and signer
// (the harness gives it its identity and the cluster CA to sign with).
func startNodeSigner(t *testing.T, c *secureCluster) {
	t.Helper()
	harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: func(cfg *cmapp.Config) {
		cfg.Controllers = []string{"csrapproving", "csrsigning"}
	}})
}

// nodeKubelet is a kubelet configuration for one node over a fake
// runtime with its own (node) kubeconfig.
func nodeKubelet(t *testing.T, name, kubeconfig string) kubelet.Config {
	t.Helper()
	cfg := kubelet.DefaultConfig()
	cfg.NodeName = name
	cfg.Kubeconfig = kubeconfig
	cfg.FakeRuntime = true
	cfg.RootDir = t.TempDir()
	cfg.MetricsAddress = "127.0.0.1:0"
	cfg.Port = 0
	cfg.RelistPeriod = time.Second + time.Millisecond
	return cfg
}

// runKubelet runs the kubelet app in the background; stop cancels it and
// returns what Run returned (also called on cleanup).
func runKubelet(t *testing.T, cfg kubelet.Config) (done <-chan error, stop func() error) {
	t.Helper()
	return runKubeletLogged(t, cfg, zap.NewNop())
}

// runKubeletLogged is runKubelet logging to log.
func runKubeletLogged(t *testing.T, cfg kubelet.Config, log *zap.Logger) (done <-chan error, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- kubelet.Run(ctx, cfg, log) }()
	var stopped bool
	var result error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-ch:
			case <-time.After(waitTimeout):
				t.Errorf("kubelet %s did not stop within %v", cfg.NodeName, waitTimeout)
			}
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return ch, stop
}

// waitNodeReady polls (the admin's view) until node is Ready, failing
// early when the kubelet exits.
func waitNodeReady(t *testing.T, c *secureCluster, node string, done <-chan error) {
	t.Helper()
	ctx := harness.Context(t, waitTimeout)
	harness.Poll(t, waitTimeout, "node "+node+" is registered and Ready", func() (bool, string) {
		select {
		case err := <-done:
			t.Fatalf("kubelet %s exited: %v", node, err)
		default:
		}
		n, err := c.api.Client.Nodes().Get(ctx, &metav1.GetOptions{Name: node})
		if err != nil {
			return false, err.Error()
		}
		return harness.NodeReady(n), n.GetStatus().String()
	})
}

// TestKubeletBootstrap: a kubelet given only a bootstrap kubeconfig (a
// bootstrap token and the cluster CA) gets its client certificate
// through a CSR the controller-manager approves and signs, writes its
// kubeconfig, and registers a Ready Node as system:node:<name> under the
// node authoriser. Restarted, it uses that kubeconfig without a new
// request. An unknown token is refused in a clear error.
func TestKubeletBootstrap(t *testing.T) {
	c := startSecureCluster(t)
	startNodeSigner(t, c)
	tok := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)
	waitTokenKnown(t, c, tok)
	boot := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	if err := config.Write(boot, config.KubeconfigSpec{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: tok.String()}); err != nil {
		t.Fatal(err)
	}
	ctx := harness.Context(t, 2*waitTimeout)

	kubeconfig := filepath.Join(t.TempDir(), "node", "kubelet.conf")
	cfg := nodeKubelet(t, "boot-1", kubeconfig)
	cfg.BootstrapKubeconfig = boot
	done, stop := runKubelet(t, cfg)
	waitNodeReady(t, c, "boot-1", done)

	st, err := os.Stat(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %#o, want 0600", kubeconfig, st.Mode().Perm())
	}
	kc, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCert(kc.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("the node's certificate does not verify against the cluster CA: %v", err)
	}
	if cert.Subject.CommonName != "system:node:boot-1" || !slices.Equal(cert.Subject.Organization, []string{pki.GroupNodes}) {
		t.Errorf("the node's certificate is for %v", cert.Subject)
	}
	if kc.Server != c.api.URL || kc.Token != "" {
		t.Errorf("kubeconfig server %q token %q, want %q and no token", kc.Server, kc.Token, c.api.URL)
	}
	csrs, err := c.api.Client.CertificateSigningRequests().List(ctx, &metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var requests []string
	for _, r := range csrs.GetItems() {
		if strings.HasPrefix(r.GetMetadata().GetName(), "node-csr-boot-1-") {
			requests = append(requests, r.GetMetadata().GetName())
		}
	}
	if len(requests) != 1 {
		t.Fatalf("requests of boot-1: %v, want one", requests)
	}
	if err := stop(); err != nil {
		t.Fatalf("kubelet: %v", err)
	}

	t.Run("a restart uses the kubeconfig as is", func(t *testing.T) {
		before, err := os.ReadFile(kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		done, stop := runKubelet(t, cfg)
		lease := func() string {
			l, err := c.api.Client.Leases().Get(ctx, &metav1.GetOptions{Namespace: "kube-node-lease", Name: "boot-1"})
			if err != nil {
				return err.Error()
			}
			return l.GetSpec().GetRenewTime().String()
		}
		first := lease()
		harness.Poll(t, waitTimeout, "the restarted kubelet renews its Lease", func() (bool, string) {
			select {
			case err := <-done:
				t.Fatalf("kubelet exited: %v", err)
			default:
			}
			now := lease()
			return now != first && !strings.Contains(now, "rpc error"), now
		})
		after, _ := os.ReadFile(kubeconfig)
		if string(after) != string(before) {
			t.Error("the restart rewrote the kubeconfig")
		}
		csrs, err := c.api.Client.CertificateSigningRequests().List(ctx, &metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(csrs.GetItems()) != len(requests) {
			t.Errorf("%d requests after the restart, want %d", len(csrs.GetItems()), len(requests))
		}
		if err := stop(); err != nil {
			t.Fatalf("kubelet: %v", err)
		}
	})

	t.Run("an unknown token is refused", func(t *testing.T) {
		bad, err := bootstraptoken.Generate()
		if err != nil {
			t.Fatal(err)
		}
		badBoot := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
		if err := config.Write(badBoot, config.KubeconfigSpec{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: bad.String()}); err != nil {
			t.Fatal(err)
		}
		cfg := nodeKubelet(t, "boot-2", filepath.Join(t.TempDir(), "kubelet.conf"))
		cfg.BootstrapKubeconfig = badBoot
		rctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		err = kubelet.Run(rctx, cfg, zap.NewNop())
		if err == nil || !strings.Contains(err.Error(), "node boot-2") || !strings.Contains(err.Error(), "refused the bootstrap credentials") {
			t.Fatalf("kubelet with an unknown token: %v, want a refusal naming the node", err)
		}
		if _, err := os.Stat(cfg.Kubeconfig); err == nil {
			t.Error("a refused bootstrap wrote the kubeconfig")
		}
	})
}
