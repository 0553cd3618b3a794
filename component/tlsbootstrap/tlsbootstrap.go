// Package tlsbootstrap is a kubelet's TLS bootstrap: with a bootstrap
// token (or its current certificate, to renew) it asks the apiserver for
// a client certificate as system:node:<name> in system:nodes through a
// CertificateSigningRequest of signer
// kubernetes.io/kube-apiserver-client-kubelet, and waits, on a watch of
// that one request, until the controller-manager has approved and signed
// it (or someone denied it). The private key never leaves the process.
// An issued certificate is checked before it is returned: it pairs with
// the key, names the node (CN system:node:<name>, O [system:nodes]), is
// for client auth and chains to the CA the caller trusts.
package tlsbootstrap

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// KubeletClientSigner is the signer of kubelet client certificates.
const KubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"

// ErrDenied is a request someone denied, or the signer failed.
var ErrDenied = errors.New("certificate signing request refused")

// Credentials are the issued certificate and its key, PEM.
type Credentials struct {
	CertPEM, KeyPEM []byte
	// Request is the name of the CertificateSigningRequest.
	Request string
}

// ErrInvalidCertificate is an issued certificate that is not what was
// asked for: wrong key, subject or usage, or not from the trusted CA.
var ErrInvalidCertificate = errors.New("the issued certificate is not a valid client certificate for the node")

// Option adjusts a request.
type Option func(*options)

type options struct{ caPEM []byte }

// WithCA makes the issued certificate chain to one of the CA certificates
// in caPEM (the CA the bootstrap kubeconfig trusts). Without it the chain
// is not checked; the key, subject and usage always are.
func WithCA(caPEM []byte) Option { return func(o *options) { o.caPEM = caPEM } }

// RequestNodeCertificate creates a CSR for node's client certificate,
// valid for expiration (0: the signer's maximum), and waits until ctx
// ends for the certificate, which it checks (see Verify) before
// returning it.
func RequestNodeCertificate(ctx context.Context, cs *clientset.Set, node string, expiration time.Duration, opts ...Option) (*Credentials, error) {
	if node == "" {
		return nil, errors.New("tls bootstrap: a node name is required")
	}
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	var roots *x509.CertPool
	if o.caPEM != nil {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(o.caPEM) {
			return nil, errors.New("tls bootstrap: the trusted CA data holds no PEM certificate")
		}
	}
	req, key, err := pki.NewCSR(pki.NodeUser(node), []string{pki.GroupNodes})
	if err != nil {
		return nil, err
	}
	keyPEM, err := pki.EncodeKey(key)
	if err != nil {
		return nil, err
	}
	name, err := requestName(node)
	if err != nil {
		return nil, err
	}
	r := &certificatesv1.CertificateSigningRequest{
		ApiVersion: "certificates.k8s.io/v1", Kind: "CertificateSigningRequest",
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec: &certificatesv1.CertificateSigningRequestSpec{
			Request: req, SignerName: KubeletClientSigner, Usages: []string{"digital signature", "client auth"},
		},
	}
	if expiration > 0 {
		s := int32(expiration / time.Second)
		r.Spec.ExpirationSeconds = &s
	}
	csrs := cs.CertificateSigningRequests()
	created, err := csrs.Create(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("tls bootstrap: create certificate signing request %s: %w", name, err)
	}
	cert, err := wait(ctx, cs, created)
	if err != nil {
		return nil, err
	}
	if err := Verify(cert, keyPEM, node, roots); err != nil {
		return nil, fmt.Errorf("tls bootstrap: certificate signing request %s: %w", name, err)
	}
	return &Credentials{CertPEM: cert, KeyPEM: keyPEM, Request: name}, nil
}

// Verify checks an issued client certificate (PEM, the leaf first, any
// intermediates after it) against its key: they pair, the subject is
// CN system:node:<node> with O [system:nodes], the certificate is valid
// now for client auth and, when roots is not nil, chains to roots. A
// failure wraps ErrInvalidCertificate and says what is wrong.
func Verify(certPEM, keyPEM []byte, node string, roots *x509.CertPool) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidCertificate, fmt.Sprintf(format, a...))
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return bad("it does not pair with the private key: %v", err)
	}
	certs := make([]*x509.Certificate, 0, len(pair.Certificate))
	for _, der := range pair.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return bad("%v", err)
		}
		certs = append(certs, c)
	}
	leaf := certs[0]
	if want := pki.NodeUser(node); leaf.Subject.CommonName != want {
		return bad("common name %q, want %q", leaf.Subject.CommonName, want)
	}
	if want := []string{pki.GroupNodes}; !slices.Equal(leaf.Subject.Organization, want) {
		return bad("organization %q, want %q", leaf.Subject.Organization, want)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return bad("it is not for client auth (extended key usages %v)", leaf.ExtKeyUsage)
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return bad("it is valid from %s to %s, not now", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if roots == nil {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return bad("it does not chain to the trusted CA: %v", err)
	}
	return nil
}

// wait watches the one request from its creation until it has a
// certificate or is denied or failed.
func wait(ctx context.Context, cs *clientset.Set, r *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	name := r.GetMetadata().GetName()
	if cert, err := issued(r); cert != nil || err != nil {
		return cert, err
	}
	w, err := cs.CertificateSigningRequests().Watch(ctx, &metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: r.GetMetadata().GetResourceVersion(),
	})
	if err != nil {
		return nil, fmt.Errorf("tls bootstrap: watch certificate signing request %s: %w", name, err)
	}
	for {
		ev, err := w.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the watch ended")
			}
			return nil, fmt.Errorf("tls bootstrap: waiting for certificate signing request %s: %w", name, err)
		}
		if ev.GetType() == "DELETED" {
			return nil, fmt.Errorf("tls bootstrap: certificate signing request %s was deleted", name)
		}
		if cert, err := issued(ev.GetObject()); cert != nil || err != nil {
			return cert, err
		}
	}
}

// issued returns the request's certificate, nil while pending, or
// ErrDenied with the condition's reason.
func issued(r *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	for _, c := range r.GetStatus().GetConditions() {
		if (c.GetType() == "Denied" || c.GetType() == "Failed") && c.GetStatus() == "True" {
			return nil, fmt.Errorf("tls bootstrap: certificate signing request %s: %w: %s %s: %s", r.GetMetadata().GetName(), ErrDenied, c.GetType(), c.GetReason(), c.GetMessage())
		}
	}
	if cert := r.GetStatus().GetCertificate(); len(cert) > 0 {
		return cert, nil
	}
	return nil, nil
}

// requestName is node-csr-<node>-<random>: unique per attempt.
func requestName(node string) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tls bootstrap: %w", err)
	}
	return "node-csr-" + node + "-" + hex.EncodeToString(b), nil
}
