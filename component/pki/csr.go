package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"
)

// pemTypeCSR is the PEM type of a PKCS #10 certificate request.
const pemTypeCSR = "CERTIFICATE REQUEST"

// NewCSR makes a new key and a certificate request for user (CN) in
// groups (O), as a kubelet asks for its client certificate
// (system:node:<name> in system:nodes). It returns the request in PEM.
func NewCSR(user string, groups []string) ([]byte, crypto.Signer, error) {
	if user == "" {
		return nil, nil, fmt.Errorf("certificate request: a user name is required")
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: user, Organization: groups}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate request for %q: %w", user, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypeCSR, Bytes: der}), key, nil
}

// ParseCSR reads a PEM certificate request and checks its signature.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemTypeCSR {
		return nil, fmt.Errorf("certificate request: no PEM block of type %s", pemTypeCSR)
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request %q: %w", req.Subject.CommonName, err)
	}
	return req, nil
}

// SignCSR issues a certificate for the request's subject and public key
// with the given extended key usages, valid for validity (capped at the
// CA's own expiry). The request's extensions and SANs are not copied: the
// signer decides what the certificate says.
func (ca *CA) SignCSR(req *x509.CertificateRequest, usages []x509.ExtKeyUsage, keyUsage x509.KeyUsage, validity time.Duration) (*x509.Certificate, error) {
	if validity <= 0 {
		validity = CertValidity
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: req.Subject.CommonName, Organization: req.Subject.Organization},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           usages,
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate request %q: %w", req.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}
