package integration

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

const kubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"

func csrFor(t *testing.T, name, cn string, orgs []string, usages ...string) (*certificatesv1.CertificateSigningRequest, []byte) {
	t.Helper()
	req, key, err := pki.NewCSR(cn, orgs)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &certificatesv1.CertificateSigningRequest{
		ApiVersion: "certificates.k8s.io/v1", Kind: "CertificateSigningRequest",
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec:     &certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: kubeletClientSigner, Usages: usages},
	}, keyPEM
}

// TestBootstrapCSR is the certificate half of tug join: a bootstrap-token
// client asks for a kubelet client certificate; the controller-manager's
// csrapproving approves it and csrsigning signs it with the cluster CA;
// the certificate verifies with the right CN and O and works as the
// node's credential. Requests for another subject or with server auth are
// not approved, and the bootstrap token cannot approve its own.
func TestBootstrapCSR(t *testing.T) {
	c := startSecureCluster(t)
	ctx := harness.Context(t, 2*waitTimeout)
	harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: func(cfg *app.Config) {
		cfg.Controllers = []string{"csrapproving", "csrsigning"}
		cfg.ClusterSigningDuration = 24 * time.Hour
	}})
	tok := createToken(t, c, time.Hour, bootstraptoken.UsageAuthentication, bootstraptoken.UsageSigning)
	waitTokenKnown(t, c, tok)
	bs := c.dial(t, &config.Config{Server: c.api.URL, CAData: c.ca.CertPEM(), Token: tok.String()}).CertificateSigningRequests()
	client := []string{"digital signature", "client auth"}

	// Requests that must not be approved, made first: by the time the
	// good one is signed (approver, then signer) they have been seen.
	admin, _ := csrFor(t, "wants-admin", "kubernetes-admin", []string{pki.GroupMasters}, client...)
	server, _ := csrFor(t, "wants-serving", "system:node:n1", []string{pki.GroupNodes}, "digital signature", "client auth", "server auth")
	for _, r := range []*certificatesv1.CertificateSigningRequest{admin, server} {
		if _, err := bs.Create(ctx, r); err != nil {
			t.Fatalf("create %s: %v", r.GetMetadata().GetName(), err)
		}
	}
	good, keyPEM := csrFor(t, "node-csr-n1", "system:node:n1", []string{pki.GroupNodes}, client...)
	hour := int32(3600)
	good.Spec.ExpirationSeconds = &hour
	good.Spec.Username = "kubernetes-admin" // spoofed: the apiserver overwrites it
	created, err := bs.Create(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if u := created.GetSpec().GetUsername(); u != tok.User() || !slices.Contains(created.GetSpec().GetGroups(), bootstraptoken.Group) {
		t.Fatalf("requester recorded as %q %v, want %s in %s", u, created.GetSpec().GetGroups(), tok.User(), bootstraptoken.Group)
	}

	var issued *certificatesv1.CertificateSigningRequest
	harness.Poll(t, waitTimeout, "the node's CSR is approved and signed", func() (bool, string) {
		r, err := bs.Get(ctx, &metav1.GetOptions{Name: "node-csr-n1"})
		if err != nil {
			return false, err.Error()
		}
		issued = r
		return len(r.GetStatus().GetCertificate()) > 0, r.GetStatus().String()
	})
	cert, err := pki.ParseCert(issued.GetStatus().GetCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("issued certificate does not verify against the cluster CA: %v", err)
	}
	if cert.Subject.CommonName != "system:node:n1" || !slices.Equal(cert.Subject.Organization, []string{pki.GroupNodes}) {
		t.Fatalf("issued certificate for %v", cert.Subject)
	}
	if d := cert.NotAfter.Sub(cert.NotBefore); d > time.Hour+10*time.Minute {
		t.Fatalf("issued for %v, want about the hour asked for", d)
	}
	if _, err := tls.X509KeyPair(issued.GetStatus().GetCertificate(), keyPEM); err != nil {
		t.Fatalf("certificate and the requester's key: %v", err)
	}
	var approvedBy string
	for _, cond := range issued.GetStatus().GetConditions() {
		if cond.GetType() == "Approved" {
			approvedBy = cond.GetReason()
		}
	}
	if approvedBy != "AutoApproved" {
		t.Fatalf("conditions %v", issued.GetStatus().GetConditions())
	}

	t.Run("the certificate is the node's credential", func(t *testing.T) {
		node := c.dial(t, &config.Config{Server: c.api.URL, CAData: c.ca.CertPEM(), CertData: issued.GetStatus().GetCertificate(), KeyData: keyPEM})
		if _, err := node.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1"}}); err != nil {
			t.Fatalf("node n1 registers itself: %v", err)
		}
		_, err := node.Nodes().Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n2"}})
		wantCode(t, err, codes.PermissionDenied, "node n1 registers node n2")

		// Renewal: the node asks for its own certificate again (approved),
		// and for another node's (left pending), first.
		other, _ := csrFor(t, "n1-wants-n2", "system:node:n2", []string{pki.GroupNodes}, client...)
		renew, _ := csrFor(t, "n1-renews", "system:node:n1", []string{pki.GroupNodes}, client...)
		for _, r := range []*certificatesv1.CertificateSigningRequest{other, renew} {
			if _, err := node.CertificateSigningRequests().Create(ctx, r); err != nil {
				t.Fatalf("node n1 creates %s: %v", r.GetMetadata().GetName(), err)
			}
		}
		harness.Poll(t, waitTimeout, "the node's renewal is signed", func() (bool, string) {
			r, err := node.CertificateSigningRequests().Get(ctx, &metav1.GetOptions{Name: "n1-renews"})
			if err != nil {
				return false, err.Error()
			}
			return len(r.GetStatus().GetCertificate()) > 0, r.GetStatus().String()
		})
		r, err := node.CertificateSigningRequests().Get(ctx, &metav1.GetOptions{Name: "n1-wants-n2"})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetStatus().GetConditions()) > 0 {
			t.Errorf("node n1's request for n2: %v", r.GetStatus())
		}
	})
	t.Run("other requests are not approved", func(t *testing.T) {
		for _, name := range []string{"wants-admin", "wants-serving"} {
			r, err := bs.Get(ctx, &metav1.GetOptions{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.GetStatus().GetConditions()) > 0 || len(r.GetStatus().GetCertificate()) > 0 {
				t.Errorf("%s: status %v", name, r.GetStatus())
			}
		}
	})
	t.Run("the bootstrap token cannot approve", func(t *testing.T) {
		r, err := bs.Get(ctx, &metav1.GetOptions{Name: "wants-admin"})
		if err != nil {
			t.Fatal(err)
		}
		r = proto.Clone(r).(*certificatesv1.CertificateSigningRequest)
		r.Status = &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: "True", Reason: "Self"}}}
		_, err = bs.UpdateApproval(ctx, r)
		wantCode(t, err, codes.PermissionDenied, "a bootstrap token approves its request")
		_, err = bs.Delete(ctx, &metav1.DeleteOptions{Name: "wants-admin"})
		wantCode(t, err, codes.PermissionDenied, "a bootstrap token deletes a request")
	})
}
