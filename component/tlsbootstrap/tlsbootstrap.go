// Package tlsbootstrap is a kubelet's TLS bootstrap: with a bootstrap
// token (or its current certificate, to renew) it asks the apiserver for
// a client certificate as system:node:<name> in system:nodes through a
// CertificateSigningRequest of signer
// kubernetes.io/kube-apiserver-client-kubelet, and waits, on a watch of
// that one request, until the controller-manager has approved and signed
// it (or someone denied it). The private key never leaves the process.
package tlsbootstrap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// RequestNodeCertificate creates a CSR for node's client certificate,
// valid for expiration (0: the signer's maximum), and waits until ctx
// ends for the certificate.
func RequestNodeCertificate(ctx context.Context, cs *clientset.Set, node string, expiration time.Duration) (*Credentials, error) {
	if node == "" {
		return nil, errors.New("tls bootstrap: a node name is required")
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
	if _, err := pki.ParseCert(cert); err != nil {
		return nil, fmt.Errorf("tls bootstrap: certificate signing request %s: %w", name, err)
	}
	return &Credentials{CertPEM: cert, KeyPEM: keyPEM, Request: name}, nil
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
