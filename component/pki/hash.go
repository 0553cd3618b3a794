package pki

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// hashPrefix is the only algorithm kubeadm's discovery hash uses.
const hashPrefix = "sha256:"

// Hash is kubeadm's CA hash: "sha256:" and the hex SHA-256 of the CA's DER
// SubjectPublicKeyInfo (what `openssl x509 -pubkey | openssl pkey -pubin
// -outform der | sha256sum` prints).
func Hash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hashPrefix + hex.EncodeToString(sum[:])
}

// ParseHash checks a "sha256:<64 hex>" hash and returns it in lower case.
func ParseHash(h string) (string, error) {
	rest, ok := strings.CutPrefix(h, hashPrefix)
	if !ok {
		return "", fmt.Errorf("CA hash %q: must start with %q", h, hashPrefix)
	}
	b, err := hex.DecodeString(rest)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("CA hash %q: must be %q and 64 hex digits", h, hashPrefix)
	}
	return hashPrefix + hex.EncodeToString(b), nil
}

// VerifyHash checks that cert's public key has the hash want.
func VerifyHash(cert *x509.Certificate, want string) error {
	w, err := ParseHash(want)
	if err != nil {
		return err
	}
	got := Hash(cert)
	if subtle.ConstantTimeCompare([]byte(got), []byte(w)) != 1 {
		return fmt.Errorf("CA certificate %q has public key hash %s, not the expected %s", cert.Subject.CommonName, got, w)
	}
	return nil
}
