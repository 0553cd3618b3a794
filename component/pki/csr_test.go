package pki

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSignCSR(t *testing.T) {
	ca, err := NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	data, key, err := NewCSR("system:node:n1", []string{GroupNodes})
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseCSR(data)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignCSR(req, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
		t.Fatalf("issued certificate does not verify: %v", err)
	}
	if cert.Subject.CommonName != "system:node:n1" || !slices.Equal(cert.Subject.Organization, []string{GroupNodes}) {
		t.Fatalf("subject %v", cert.Subject)
	}
	if !publicKeysEqual(cert, key) {
		t.Fatal("the certificate is not for the request's key")
	}
	if d := time.Until(cert.NotAfter); d > time.Hour || d < 59*time.Minute {
		t.Fatalf("valid for %v, want an hour", d)
	}
	if err := ca.Verify(cert, x509.ExtKeyUsageServerAuth); err == nil {
		t.Fatal("a client certificate verifies for server auth")
	}

	t.Run("bad requests", func(t *testing.T) {
		b, _ := pem.Decode(data)
		der := append([]byte(nil), b.Bytes...)
		der[len(der)-3] ^= 0xff
		for name, in := range map[string][]byte{
			"not PEM":       []byte("x"),
			"a certificate": EncodeCert(ca.Cert),
			"bad signature": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		} {
			if _, err := ParseCSR(in); err == nil || !strings.Contains(err.Error(), "certificate request") {
				t.Errorf("%s: ParseCSR = %v", name, err)
			}
		}
	})
}
