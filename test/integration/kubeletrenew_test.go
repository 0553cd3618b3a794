package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"go.uber.org/zap"
)

// TestKubeletRenewal: a registered node whose client certificate is in
// the last 10% of its life renews it with that certificate (the request
// comes from system:node:<name>), which the real controller-manager
// approves and signs although the Node exists; and a bootstrap token's
// request for that registered node is denied at once, the kubelet
// failing with the reason instead of waiting.
func TestKubeletRenewal(t *testing.T) {
	c := startSecureCluster(t)
	startNodeSigner(t, c)
	tok := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)
	waitTokenKnown(t, c, tok)
	boot := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	if err := config.Write(boot, config.KubeconfigSpec{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: tok.String()}); err != nil {
		t.Fatal(err)
	}
	ctx := harness.Context(t, 2*waitTimeout)

	// Register the node by a TLS bootstrap, then give it a certificate
	// near its end.
	kubeconfig := filepath.Join(t.TempDir(), "node", "kubelet.conf")
	cfg := nodeKubelet(t, "renew-1", kubeconfig)
	cfg.BootstrapKubeconfig = boot
	done, stop := runKubelet(t, cfg)
	waitNodeReady(t, c, "renew-1", done)
	if err := stop(); err != nil {
		t.Fatalf("kubelet: %v", err)
	}
	now := time.Now()
	oldCert, oldKey := expiringNodeCert(t, c.ca, "renew-1", now.Add(-95*time.Minute), now.Add(5*time.Minute))
	if err := config.Write(kubeconfig, config.KubeconfigSpec{Server: c.api.URL, CAData: c.ca.CertPEM(), CertData: oldCert, KeyData: oldKey}); err != nil {
		t.Fatal(err)
	}

	t.Run("a certificate near its end is renewed with itself", func(t *testing.T) {
		done, stop := runKubelet(t, cfg)
		harness.Poll(t, waitTimeout, "the kubelet rewrites its kubeconfig", func() (bool, string) {
			select {
			case err := <-done:
				t.Fatalf("kubelet exited: %v", err)
			default:
			}
			kc, err := config.Load(kubeconfig, "")
			if err != nil {
				return false, err.Error()
			}
			return string(kc.CertData) != string(oldCert), "the old certificate"
		})
		waitNodeReady(t, c, "renew-1", done)
		kc, err := config.Load(kubeconfig, "")
		if err != nil {
			t.Fatal(err)
		}
		cert, err := pki.ParseCert(kc.CertData)
		if err != nil {
			t.Fatal(err)
		}
		if string(kc.CertData) == string(oldCert) || !cert.NotAfter.After(now.Add(time.Hour)) {
			t.Errorf("the kubeconfig's certificate (valid to %s) was not renewed", cert.NotAfter)
		}
		if err := c.ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil || cert.Subject.CommonName != "system:node:renew-1" {
			t.Errorf("renewed certificate for %v: %v", cert.Subject, err)
		}
		csrs, err := c.api.Client.CertificateSigningRequests().List(ctx, &metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var renewals int
		for _, r := range csrs.GetItems() {
			if r.GetSpec().GetUsername() != "system:node:renew-1" {
				continue
			}
			renewals++
			var approved bool
			for _, cond := range r.GetStatus().GetConditions() {
				approved = approved || cond.GetType() == "Approved" && strings.Contains(cond.GetMessage(), "renewal requested by node renew-1")
			}
			if !approved {
				t.Errorf("renewal %s: conditions %v, want an automatic approval as a renewal", r.GetMetadata().GetName(), r.GetStatus().GetConditions())
			}
		}
		if renewals != 1 {
			t.Errorf("%d requests by system:node:renew-1, want 1", renewals)
		}
		if err := stop(); err != nil {
			t.Fatalf("kubelet: %v", err)
		}
	})

	t.Run("a bootstrap token for the registered node is denied", func(t *testing.T) {
		cfg := nodeKubelet(t, "renew-1", filepath.Join(t.TempDir(), "kubelet.conf"))
		cfg.BootstrapKubeconfig = boot
		rctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		err := kubelet.Run(rctx, cfg, zap.NewNop())
		if err == nil || rctx.Err() != nil || !strings.Contains(err.Error(), "node renew-1") || !strings.Contains(err.Error(), "the Node must be deleted before it can join again") {
			t.Fatalf("kubelet with a bootstrap token for a registered node: %v, want an immediate denial naming the node", err)
		}
		if _, err := os.Stat(cfg.Kubeconfig); err == nil {
			t.Error("a denied bootstrap wrote the kubeconfig")
		}
	})
}

// expiringNodeCert is a client certificate of node from ca, valid from nb
// to na, and its key (PEM).
func expiringNodeCert(t *testing.T, ca *pki.CA, node string, nb, na time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: nb, NotAfter: na,
		Subject:  pkix.Name{CommonName: pki.NodeUser(node), Organization: []string{pki.GroupNodes}},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pki.EncodeCert(c), keyPEM
}
