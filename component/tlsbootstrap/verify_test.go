package tlsbootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// leaf signs a certificate for subject with usage, valid from nb to na,
// with a new key; it returns the certificate and key PEM.
func leaf(t *testing.T, ca *pki.CA, subject pkix.Name, usage x509.ExtKeyUsage, nb, na time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	k, err := pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pki.EncodeCert(c), k
}

func TestVerify(t *testing.T) {
	ca, err := pki.NewCA("cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("other-ca")
	if err != nil {
		t.Fatal(err)
	}
	roots := ca.Pool()
	now := time.Now()
	node := pkix.Name{CommonName: "system:node:n1", Organization: []string{pki.GroupNodes}}
	good, goodKey := leaf(t, ca, node, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour))
	_, strayKey := leaf(t, ca, node, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour))
	cert := func(ca *pki.CA, subject pkix.Name, usage x509.ExtKeyUsage, nb, na time.Time) [2][]byte {
		c, k := leaf(t, ca, subject, usage, nb, na)
		return [2][]byte{c, k}
	}
	tests := []struct {
		name    string
		pair    [2][]byte
		roots   *x509.CertPool
		wantErr string
	}{
		{name: "valid", pair: [2][]byte{good, goodKey}, roots: roots},
		{name: "valid, chain not checked", pair: cert(other, node, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour))},
		{name: "another key", pair: [2][]byte{good, strayKey}, roots: roots, wantErr: "does not pair with the private key"},
		{name: "not PEM", pair: [2][]byte{[]byte("junk"), goodKey}, roots: roots, wantErr: "does not pair with the private key"},
		{name: "another node", pair: cert(ca, pkix.Name{CommonName: "system:node:n2", Organization: []string{pki.GroupNodes}}, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour)), roots: roots, wantErr: `common name "system:node:n2", want "system:node:n1"`},
		{name: "extra group", pair: cert(ca, pkix.Name{CommonName: "system:node:n1", Organization: []string{pki.GroupNodes, pki.GroupMasters}}, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour)), roots: roots, wantErr: `organization ["system:nodes" "system:masters"], want ["system:nodes"]`},
		{name: "no group", pair: cert(ca, pkix.Name{CommonName: "system:node:n1"}, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour)), roots: roots, wantErr: "organization [], want"},
		{name: "server usage only", pair: cert(ca, node, x509.ExtKeyUsageServerAuth, now.Add(-time.Minute), now.Add(time.Hour)), roots: roots, wantErr: "not for client auth"},
		{name: "expired", pair: cert(ca, node, x509.ExtKeyUsageClientAuth, now.Add(-2*time.Hour), now.Add(-time.Hour)), roots: roots, wantErr: "not now"},
		{name: "another CA", pair: cert(other, node, x509.ExtKeyUsageClientAuth, now.Add(-time.Minute), now.Add(time.Hour)), roots: roots, wantErr: "does not chain to the trusted CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pair[0], tt.pair[1], "n1", tt.roots)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidCertificate) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want ErrInvalidCertificate saying %q", err, tt.wantErr)
			}
		})
	}
}
