package integration

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/discovery"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/component/tlsbootstrap"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
)

// TestJoinFlow is what tug join does before it starts a kubelet, with
// the pieces it will use: discovery with the token and the CA hash, a
// client trusting that CA with the token, the TLS bootstrap of the node's
// client certificate, and the node registering itself with it.
func TestJoinFlow(t *testing.T) {
	c := startSecureCluster(t)
	ctx := harness.Context(t, 2*waitTimeout)
	if err := discovery.Publish(ctx, c.api.Client, c.api.URL, c.ca.CertPEM()); err != nil {
		t.Fatal(err)
	}
	harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: func(cfg *app.Config) {
		cfg.Controllers = []string{"bootstrapsigner", "tokencleaner", "csrapproving", "csrsigning"}
	}})
	tok := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)

	var res *discovery.Result
	harness.Poll(t, waitTimeout, "discovery succeeds", func() (bool, string) {
		var err error
		res, err = discovery.Discover(ctx, c.api.Addr, tok, pki.Hash(c.ca.Cert))
		return err == nil, errString(err)
	})
	waitTokenKnown(t, c, tok)
	bootstrap := c.dial(t, res.Config(c.api.Addr, tok))
	creds, err := tlsbootstrap.RequestNodeCertificate(ctx, bootstrap, "joined", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCert(creds.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil || cert.Subject.CommonName != "system:node:joined" {
		t.Fatalf("certificate %v: %v", cert.Subject, err)
	}
	node := c.dial(t, &config.Config{Server: res.Server, CAData: res.CAData, CertData: creds.CertPEM, KeyData: creds.KeyPEM})
	if _, err := node.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "joined"}}); err != nil {
		t.Fatalf("the joined node registers: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
