package pki

import (
	"crypto"
	"crypto/x509"
)

// publicKeysEqual reports whether key is the private half of cert's public key.
func publicKeysEqual(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}
