package encryption

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The key file holds one key a line, "<id>:<base64 of 32 bytes>"; the
// first line seals, every line opens. Lines starting with # are comments.
// To rotate, put a new key on top, restart, and the apiserver seals every
// secret again with it; then the old line may go.

// LoadFile reads a key file. It refuses a file that others than its owner
// may read.
func LoadFile(path string) ([]Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("encryption key file %s has mode %04o: it must be readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	var keys []Key
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("encryption key file %s line %d: want <id>:<base64 key>", path, n)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("encryption key file %s line %d: key is not base64: %w", path, n, err)
		}
		if len(raw) != 32 {
			return nil, fmt.Errorf("encryption key file %s line %d: key has %d bytes, want 32", path, n, len(raw))
		}
		keys = append(keys, Key{ID: strings.TrimSpace(id), Bytes: raw})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("encryption key file %s holds no key", path)
	}
	return keys, nil
}

// GenerateKey makes a new random key named after the time.
func GenerateKey(now time.Time) (Key, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("generate encryption key: %w", err)
	}
	return Key{ID: "k" + now.UTC().Format("20060102150405"), Bytes: b}, nil
}

// Line is a key as the key file writes it.
func (k Key) Line() string { return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Bytes) }

// CreateFile writes a new key file with one fresh key, mode 0600; it fails
// when the file exists.
func CreateFile(path string, now time.Time) ([]Key, error) {
	key, err := GenerateKey(now)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("encryption key file dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create encryption key file: %w", err)
	}
	content := "# Tugboat secret encryption keys: the first seals, all open. Keep this file; without it secrets cannot be read.\n" + key.Line() + "\n"
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return nil, errors.Join(fmt.Errorf("write encryption key file: %w", err), os.Remove(path))
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write encryption key file: %w", err)
	}
	return []Key{key}, f.Close()
}
