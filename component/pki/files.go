package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File modes: the directory and keys are private, certificates readable.
const (
	DirMode  fs.FileMode = 0o700
	KeyMode  fs.FileMode = 0o600
	CertMode fs.FileMode = 0o644
)

// Base names of the files under a Dir, as kubeadm names them.
const (
	CAName        = "ca"
	APIServerName = "apiserver"
	AdminName     = "admin"
)

// renewBefore reissues a leaf that expires sooner than this.
const renewBefore = 30 * 24 * time.Hour

// Dir is a pki directory (usually <data-dir>/pki) holding <name>.crt and
// <name>.key pairs.
type Dir string

// CertPath and KeyPath are the files of name.
func (d Dir) CertPath(name string) string { return filepath.Join(string(d), name+".crt") }

// KeyPath is the private key file of name.
func (d Dir) KeyPath(name string) string { return filepath.Join(string(d), name+".key") }

// ensure creates the directory 0700, or checks an existing one is not
// writable by group or others.
func (d Dir) ensure() error {
	st, err := os.Stat(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(string(d), DirMode); err != nil {
			return fmt.Errorf("create pki directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("pki directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("pki directory %s is not a directory", d)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("pki directory %s has mode %#o: it must not be writable by group or others (chmod 700)", d, st.Mode().Perm())
	}
	return nil
}

// CheckKeyFile refuses a private key file readable or writable by group or others.
func CheckKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("private key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("private key %s has mode %#o: it must be 0600 or stricter (chmod 600)", path, st.Mode().Perm())
	}
	return nil
}

// Load reads name's certificate and key; the key's mode is checked first.
func (d Dir) Load(name string) (*KeyPair, error) {
	if err := CheckKeyFile(d.KeyPath(name)); err != nil {
		return nil, err
	}
	certPEM, err := os.ReadFile(d.CertPath(name))
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.CertPath(name), err)
	}
	keyPEM, err := os.ReadFile(d.KeyPath(name))
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.KeyPath(name), err)
	}
	if !publicKeysEqual(cert, key) {
		return nil, fmt.Errorf("%s does not hold the private key of %s", d.KeyPath(name), d.CertPath(name))
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// Write stores kp as name's files: the key 0600 first, then the
// certificate, each through a temporary file and a rename.
func (d Dir) Write(name string, kp *KeyPair) error {
	if err := d.ensure(); err != nil {
		return err
	}
	keyPEM, err := kp.KeyPEM()
	if err != nil {
		return err
	}
	if err := WriteFile(d.KeyPath(name), keyPEM, KeyMode); err != nil {
		return err
	}
	return WriteFile(d.CertPath(name), kp.CertPEM(), CertMode)
}

// exists reports whether name has a certificate or a key file.
func (d Dir) exists(name string) (bool, error) {
	for _, p := range []string{d.CertPath(name), d.KeyPath(name)} {
		_, err := os.Stat(p)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

// LoadOrCreateCA loads ca.crt and ca.key, creating them when neither exists.
func (d Dir) LoadOrCreateCA() (*CA, error) { return d.loadOrCreateCA("") }

// caWait bounds how long a process that lost the race to create a CA waits
// for the winner's certificate to appear next to its key.
const caWait = 10 * time.Second

// loadOrCreateCA loads the CA of d, or creates one named commonName. Two
// processes creating it at once cannot both win: the key is placed with a
// hard link, which fails when the file exists, and the loser loads the
// winner's pair instead of overwriting it.
func (d Dir) loadOrCreateCA(commonName string) (*CA, error) {
	if err := d.ensure(); err != nil {
		return nil, err
	}
	ok, err := d.exists(CAName)
	if err != nil {
		return nil, err
	}
	if ok {
		// A key without its certificate is a CA another process is
		// creating right now (or crashed creating: waitCA says so).
		return d.waitCA()
	}
	ca, err := NewCA(commonName)
	if err != nil {
		return nil, err
	}
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil {
		return nil, err
	}
	won, err := createExclusive(d.KeyPath(CAName), keyPEM, KeyMode)
	if err != nil {
		return nil, err
	}
	if !won {
		return d.waitCA()
	}
	if err := WriteFile(d.CertPath(CAName), ca.CertPEM(), CertMode); err != nil {
		return nil, err
	}
	return ca, nil
}

func (d Dir) loadCA() (*CA, error) {
	kp, err := d.Load(CAName)
	if err != nil {
		return nil, err
	}
	if !kp.Cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", d.CertPath(CAName))
	}
	return (*CA)(kp), nil
}

// waitCA loads the CA another process is creating: its key is there, its
// certificate follows.
func (d Dir) waitCA() (*CA, error) {
	deadline := time.Now().Add(caWait)
	for {
		_, err := os.Stat(d.CertPath(CAName))
		if err == nil {
			return d.loadCA()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("CA certificate: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s exists without %s after %v: remove the key or restore the certificate", d.KeyPath(CAName), d.CertPath(CAName), caWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LoadOrCreateServing loads name's serving pair, issuing a new one when it
// is missing, not issued by ca, near its expiry or lacking one of names.
func (d Dir) LoadOrCreateServing(ca *CA, name, commonName string, names ServingNames) (*KeyPair, error) {
	return d.loadOrIssue(ca, name, x509.ExtKeyUsageServerAuth, func(c *x509.Certificate) bool {
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
	}, func() (*KeyPair, error) { return ca.IssueServing(commonName, names, 0) })
}

// LoadOrCreateClient loads name's client pair, issuing a new one for user
// in groups when it is missing, not issued by ca, near its expiry or for
// another subject.
func (d Dir) LoadOrCreateClient(ca *CA, name, user string, groups []string) (*KeyPair, error) {
	return d.loadOrIssue(ca, name, x509.ExtKeyUsageClientAuth, func(c *x509.Certificate) bool {
		return c.Subject.CommonName == user && slices.Equal(c.Subject.Organization, groups)
	}, func() (*KeyPair, error) { return ca.IssueClient(user, groups, 0) })
}

func (d Dir) loadOrIssue(ca *CA, name string, usage x509.ExtKeyUsage, fits func(*x509.Certificate) bool, issue func() (*KeyPair, error)) (*KeyPair, error) {
	if err := d.ensure(); err != nil {
		return nil, err
	}
	ok, err := d.exists(name)
	if err != nil {
		return nil, err
	}
	if ok {
		kp, err := d.loadLeaf(name)
		if err != nil {
			return nil, err
		}
		if kp != nil && ca.Verify(kp.Cert, usage) == nil && fits(kp.Cert) && time.Until(kp.Cert.NotAfter) > renewBefore {
			return kp, nil
		}
	}
	kp, err := issue()
	if err != nil {
		return nil, err
	}
	if err := d.Write(name, kp); err != nil {
		return nil, err
	}
	return kp, nil
}

// loadLeaf loads name's pair for loadOrIssue: nil (re-issue) when a file
// is missing, does not parse or the key is not the certificate's; an
// error when the key's permissions are too wide or a file cannot be read,
// which re-issuing would hide.
func (d Dir) loadLeaf(name string) (*KeyPair, error) {
	keyPath := d.KeyPath(name)
	if _, err := os.Stat(keyPath); err == nil {
		if err := CheckKeyFile(keyPath); err != nil {
			return nil, err
		}
	}
	certPEM, err := readIfExists(d.CertPath(name))
	if err != nil || certPEM == nil {
		return nil, err
	}
	keyPEM, err := readIfExists(keyPath)
	if err != nil || keyPEM == nil {
		return nil, err
	}
	cert, err := ParseCert(certPEM)
	if err != nil {
		return nil, nil
	}
	key, err := ParseKey(keyPEM)
	if err != nil || !publicKeysEqual(cert, key) {
		return nil, nil
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// readIfExists reads path, nil when it does not exist.
func readIfExists(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// WriteFile writes data to path with mode through a temporary file in the
// same directory, synced to disk before a rename puts it in place, and
// syncs the directory after: a reader never sees half a file, and a crash
// leaves the old file or the new one.
func WriteFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// HostIPs are the addresses a serving certificate of this host should
// carry: every address of its interfaces (loopback included).
func HostIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	return out
}
