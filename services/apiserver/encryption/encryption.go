// Package encryption keeps secrets encrypted at rest: an AES-GCM envelope
// (a fresh data key per value, sealed under a key-encryption key from the
// key file) with the etcd key as authenticated data, so a value cannot be
// moved to another key. Stored values carry the id of the key that sealed
// them; the first key of the file seals new values and every key opens old
// ones, which is how keys are rotated.
package encryption

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every value this package sealed; values without it are
// plain (written before encryption was on) and are read as they are.
const Prefix = "tugboat:enc:aesgcm:v1:"

// Sentinel errors.
var (
	ErrUnknownKey = errors.New("encryption: value sealed with a key the key file does not hold")
	ErrWrongKey   = errors.New("encryption: value does not open with its key (wrong key, or tampered)")
	ErrCorrupt    = errors.New("encryption: malformed sealed value")
)

// Key is one named key-encryption key of 32 bytes (AES-256).
type Key struct {
	ID    string
	Bytes []byte
}

// Keyring seals with its first key and opens with any.
type Keyring struct {
	primary Key
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring; keys[0] seals.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("encryption: no keys")
	}
	k := &Keyring{primary: keys[0], aeads: map[string]cipher.AEAD{}}
	for _, key := range keys {
		if !validID(key.ID) {
			return nil, fmt.Errorf("encryption: key id %q: want 1-32 characters of a-z, 0-9 and -", key.ID)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("encryption: key id %q appears twice", key.ID)
		}
		a, err := newAEAD(key.Bytes)
		if err != nil {
			return nil, fmt.Errorf("encryption: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = a
	}
	return k, nil
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("want a 32-byte key, got %d bytes", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Primary is the id of the key that seals.
func (k *Keyring) Primary() string { return k.primary.ID }

// Seal encrypts plain for the etcd key name:
// Prefix | keyID | ":" | uint16 len(wrapped DEK) | wrapped DEK | nonce | ciphertext,
// where the wrapped DEK is the data key sealed under the key-encryption key.
func (k *Keyring) Seal(name string, plain []byte) ([]byte, error) {
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return nil, fmt.Errorf("encryption: data key: %w", err)
	}
	kek := k.aeads[k.primary.ID]
	wrapped, err := seal(kek, dek, []byte(name))
	if err != nil {
		return nil, err
	}
	data, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	body, err := seal(data, plain, []byte(name))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(Prefix)+len(k.primary.ID)+3+len(wrapped)+len(body))
	out = append(out, Prefix...)
	out = append(out, k.primary.ID...)
	out = append(out, ':')
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	return append(out, body...), nil
}

// seal is nonce | AES-GCM(plain) with additional data ad.
func seal(a cipher.AEAD, plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encryption: nonce: %w", err)
	}
	return a.Seal(nonce, nonce, plain, ad), nil
}

func open(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, ErrCorrupt
	}
	out, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], ad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return out, nil
}

// KeyID is the id of the key that sealed value ("" when the id is
// malformed); false for a plain value.
func KeyID(value []byte) (string, bool) {
	rest, ok := strings.CutPrefix(string(value[:min(len(value), len(Prefix)+40)]), Prefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	if !ok || !validID(id) {
		return "", true
	}
	return id, true
}

// Open decrypts a value Seal made for name; a plain value is returned as
// it is.
func (k *Keyring) Open(name string, value []byte) ([]byte, error) {
	id, sealed := KeyID(value)
	if !sealed {
		return value, nil
	}
	if id == "" {
		return nil, ErrCorrupt
	}
	kek, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	rest := value[len(Prefix)+len(id)+1:]
	if len(rest) < 2 {
		return nil, ErrCorrupt
	}
	n := int(binary.BigEndian.Uint16(rest))
	if len(rest) < 2+n {
		return nil, ErrCorrupt
	}
	dek, err := open(kek, rest[2:2+n], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q", err, id)
	}
	data, err := newAEAD(dek)
	if err != nil {
		return nil, ErrCorrupt
	}
	plain, err := open(data, rest[2+n:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q", err, id)
	}
	return plain, nil
}

// Stale says whether value should be sealed again: plain, or sealed with a
// key other than the primary.
func (k *Keyring) Stale(value []byte) bool {
	id, sealed := KeyID(value)
	return !sealed || id != k.primary.ID
}
