// Package serving is the TLS of the kubelet's own server (logs, exec,
// attach, port-forward for the apiserver): its serving certificate, given
// by --tls-cert-file/--tls-private-key-file or self-signed under
// <root-dir>/pki as Kubernetes' kubelet makes it, and the authentication
// and authorisation of its callers: a client certificate from the client
// CA, for user kube-apiserver-kubelet-client or group system:masters.
package serving

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// Name is the base name of the self-signed pair: kubelet.crt, kubelet.key.
const Name = "kubelet"

// renewBefore makes a new self-signed certificate when the one on disk
// expires sooner.
const renewBefore = 30 * 24 * time.Hour

// LoadFiles reads a given certificate (chain) and key; the key must not be
// readable by group or others.
func LoadFiles(certFile, keyFile string) (tls.Certificate, error) {
	if err := pki.CheckKeyFile(keyFile); err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-private-key-file: %w", err)
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert-file %s, --tls-private-key-file %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// LoadOrCreate returns the self-signed serving pair under dir
// (kubelet.crt holding the certificate and the CA that signed it,
// kubelet.key 0600, dir 0700): the existing one when it is valid for more
// than 30 days and names every one of names, else a new one, written
// atomically. An existing dir writable by group or others is refused, and
// so is a pair it cannot read (any error but a missing file): it is never
// overwritten.
func LoadOrCreate(dir string, names pki.ServingNames) (tls.Certificate, error) {
	d := pki.Dir(dir)
	if err := checkDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, err
	}
	certThere, err := present(d.CertPath(Name))
	if err != nil {
		return tls.Certificate{}, err
	}
	keyThere, err := present(d.KeyPath(Name))
	if err != nil {
		return tls.Certificate{}, err
	}
	if certThere && keyThere {
		kp, err := d.Load(Name)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("kubelet serving certificate: %w", err)
		}
		chain, err := os.ReadFile(d.CertPath(Name))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("kubelet serving certificate: %w", err)
		}
		if fits(kp.Cert, names) {
			return pairOf(chain, kp)
		}
	}
	// Missing (either file), expiring or naming too little: a new pair.
	return create(d, names)
}

// present reports whether path exists; any error but a missing file is
// returned.
func present(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("kubelet serving certificate: %w", err)
}

// checkDir refuses a pki directory that is not a directory or is writable
// by group or others (the README's rule); a missing one is fs.ErrNotExist.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("kubelet pki directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("kubelet pki directory %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("kubelet pki directory %s has mode %#o: it must not be writable by group or others (chmod 700)", dir, st.Mode().Perm())
	}
	return nil
}

// fits reports whether c is valid long enough and names every one of names.
func fits(c *x509.Certificate, names pki.ServingNames) bool {
	if time.Until(c.NotAfter) < renewBefore || time.Now().Before(c.NotBefore) {
		return false
	}
	for _, n := range names.DNSNames {
		if !slices.Contains(c.DNSNames, n) {
			return false
		}
	}
	for _, ip := range names.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// create makes a CA of its own (<host>-ca@<unix time>, as Kubernetes names
// it), the serving certificate it signs, and writes both.
func create(d pki.Dir, names pki.ServingNames) (tls.Certificate, error) {
	host, _ := os.Hostname()
	ca, err := pki.NewCA(fmt.Sprintf("%s-ca@%d", host, time.Now().Unix()))
	if err != nil {
		return tls.Certificate{}, err
	}
	kp, err := ca.IssueServing(fmt.Sprintf("%s@%d", host, time.Now().Unix()), names, pki.CertValidity)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := kp.KeyPEM()
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := append(kp.CertPEM(), ca.CertPEM()...)
	if err := os.MkdirAll(string(d), pki.DirMode); err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet pki directory: %w", err)
	}
	if err := checkDir(string(d)); err != nil {
		return tls.Certificate{}, err
	}
	if err := pki.WriteFile(d.KeyPath(Name), keyPEM, pki.KeyMode); err != nil {
		return tls.Certificate{}, err
	}
	if err := pki.WriteFile(d.CertPath(Name), chain, pki.CertMode); err != nil {
		return tls.Certificate{}, err
	}
	return pairOf(chain, kp)
}

// pairOf is the TLS certificate of a chain and kp's key.
func pairOf(chainPEM []byte, kp *pki.KeyPair) (tls.Certificate, error) {
	certs, err := pki.ParseCerts(chainPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	out := tls.Certificate{PrivateKey: kp.Key, Leaf: certs[0]}
	for _, c := range certs {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// Names are the SANs of a node's serving certificate from its IP, host
// name and node name (and any other name or address): addresses as IP
// SANs, the rest as DNS names, each once.
func Names(names ...string) pki.ServingNames {
	var n pki.ServingNames
	add := func(s string) {
		if s == "" {
			return
		}
		if ip := net.ParseIP(s); ip != nil {
			if !slices.ContainsFunc(n.IPs, ip.Equal) {
				n.IPs = append(n.IPs, ip)
			}
		} else if !slices.Contains(n.DNSNames, s) {
			n.DNSNames = append(n.DNSNames, s)
		}
	}
	for _, s := range names {
		add(s)
	}
	return n
}
