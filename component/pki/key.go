package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// LoadOrCreateKey loads the private key <name>.key of d (refused when its
// mode is wider than 0600 or it does not parse), or creates an ECDSA P-256
// key there. A new key is written to a 0600 temporary file, synced and
// hard-linked into place, which fails when another process got there
// first: then that key is loaded, so every caller ends with the same key.
func (d Dir) LoadOrCreateKey(name string) (crypto.Signer, error) {
	if err := d.ensure(); err != nil {
		return nil, err
	}
	path := d.KeyPath(name)
	if k, err := loadKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	pem, err := EncodeKey(key)
	if err != nil {
		return nil, err
	}
	won, err := createExclusive(path, pem, KeyMode)
	if err != nil {
		return nil, err
	}
	if !won {
		return loadKey(path)
	}
	return key, nil
}

// loadKey reads a private key file after checking its mode; a missing
// file is an error that wraps fs.ErrNotExist.
func loadKey(path string) (crypto.Signer, error) {
	if err := CheckKeyFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// createExclusive writes data to path through a synced temporary file with
// mode and a hard link, which never replaces an existing file: it reports
// false, writing nothing, when path exists.
func createExclusive(path string, data []byte, mode fs.FileMode) (bool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync()
		_ = dir.Close()
	}
	return true, nil
}
