package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
)

// publicKeysEqual reports whether key is the private half of cert's public key.
func publicKeysEqual(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

// CheckKey reports an error when the CA's key is not its certificate's.
func (ca *CA) CheckKey() error {
	if !publicKeysEqual(ca.Cert, ca.Key) {
		return fmt.Errorf("the key does not match the public key of CA certificate %q", ca.Cert.Subject.CommonName)
	}
	return nil
}
