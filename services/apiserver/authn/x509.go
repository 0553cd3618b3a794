package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
)

// certCacheSize bounds the verified-certificate cache; it is cleared when full.
const certCacheSize = 4096

// CertAuthenticator verifies client certificates against a CA pool: the
// user is the leaf's CN, the groups its O. Verifications are cached until
// the certificate expires: by the parsed certificate (a connection's
// requests share it, so they verify its chain once) and by the
// certificate's hash (new connections with the same certificate).
type CertAuthenticator struct {
	roots  *x509.CertPool
	mu     sync.RWMutex
	byCert map[*x509.Certificate]certResult
	byHash map[[32]byte]certResult
}

type certResult struct {
	user     *User
	notAfter time.Time
}

// NewCertAuthenticator trusts roots.
func NewCertAuthenticator(roots *x509.CertPool) *CertAuthenticator {
	return &CertAuthenticator{roots: roots, byCert: map[*x509.Certificate]certResult{}, byHash: map[[32]byte]certResult{}}
}

// LoadClientCA reads a PEM bundle of CA certificates (--client-ca-file).
func LoadClientCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --client-ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--client-ca-file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Pool is the trusted CA pool.
func (a *CertAuthenticator) Pool() *x509.CertPool { return a.roots }

// Authenticate verifies chain (leaf first) for client authentication.
func (a *CertAuthenticator) Authenticate(chain []*x509.Certificate) (*User, error) {
	leaf := chain[0]
	now := time.Now()
	a.mu.RLock()
	r, ok := a.byCert[leaf]
	a.mu.RUnlock()
	if ok && now.Before(r.notAfter) {
		return r.user, nil
	}
	key := sha256.Sum256(leaf.Raw)
	a.mu.RLock()
	r, ok = a.byHash[key]
	a.mu.RUnlock()
	if !ok || !now.Before(r.notAfter) {
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: now}); err != nil {
			return nil, fmt.Errorf("client certificate %q: %w", leaf.Subject.CommonName, verifyReason(err))
		}
		if leaf.Subject.CommonName == "" {
			return nil, fmt.Errorf("client certificate has no common name: the user is the CN")
		}
		r = certResult{user: withAuthenticated(&User{Name: leaf.Subject.CommonName, Groups: append([]string(nil), leaf.Subject.Organization...)}), notAfter: leaf.NotAfter}
	}
	a.mu.Lock()
	if len(a.byCert) >= certCacheSize || len(a.byHash) >= certCacheSize {
		clear(a.byCert)
		clear(a.byHash)
	}
	a.byCert[leaf] = r
	a.byHash[key] = r
	a.mu.Unlock()
	return r.user, nil
}

// verifyReason words x509's errors as Kubernetes does.
func verifyReason(err error) error {
	switch e := err.(type) {
	case x509.UnknownAuthorityError:
		return fmt.Errorf("signed by an unknown authority (not the cluster's client CA)")
	case x509.CertificateInvalidError:
		if e.Reason == x509.Expired {
			return fmt.Errorf("expired or not yet valid: %s", e.Detail)
		}
	}
	return err
}
