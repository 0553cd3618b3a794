package encryption

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func key(id string, b byte) Key { return Key{ID: id, Bytes: bytes.Repeat([]byte{b}, 32)} }

func TestSealOpen(t *testing.T) {
	ring, err := NewKeyring([]Key{key("k1", 1)})
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("A19fh68B001j")
	sealed, err := ring.Seal("/registry/secrets/default/apikey", plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(sealed, []byte(Prefix+"k1:")) {
		t.Errorf("sealed value starts %q, want the prefix and key id", sealed[:min(len(sealed), 30)])
	}
	if bytes.Contains(sealed, plain) {
		t.Error("sealed value holds the plaintext")
	}
	again, _ := ring.Seal("/registry/secrets/default/apikey", plain)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one value are equal: no fresh data key or nonce")
	}
	got, err := ring.Open("/registry/secrets/default/apikey", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Bound to its etcd key: moved elsewhere it does not open.
	if _, err := ring.Open("/registry/secrets/default/other", sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a value moved to another key opened: %v", err)
	}
	// Tampered.
	bad := bytes.Clone(sealed)
	bad[len(bad)-1] ^= 1
	if _, err := ring.Open("/registry/secrets/default/apikey", bad); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a tampered value opened: %v", err)
	}
	// Truncated.
	if _, err := ring.Open("/registry/secrets/default/apikey", sealed[:len(Prefix)+4]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a truncated value gave %v", err)
	}
	// The prefix with no key id is no plain value.
	if _, err := ring.Open("/k", []byte(Prefix+"no id at all")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a sealed value without a key id gave %v", err)
	}
	// Plain values (from before encryption) read as they are.
	if got, err := ring.Open("/k", []byte("plain proto")); err != nil || string(got) != "plain proto" {
		t.Errorf("plain value = %q, %v", got, err)
	}
}

func TestWrongAndRotatedKeys(t *testing.T) {
	old, _ := NewKeyring([]Key{key("k1", 1)})
	sealed, _ := old.Seal("/k", []byte("v"))

	wrong, _ := NewKeyring([]Key{key("k1", 2)})
	if _, err := wrong.Open("/k", sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the wrong key gave %v, want ErrWrongKey", err)
	}
	other, _ := NewKeyring([]Key{key("k2", 2)})
	if _, err := other.Open("/k", sealed); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a missing key gave %v, want ErrUnknownKey", err)
	}
	// Rotation: the new key seals, the old one still opens.
	rotated, _ := NewKeyring([]Key{key("k2", 2), key("k1", 1)})
	if got, err := rotated.Open("/k", sealed); err != nil || string(got) != "v" {
		t.Errorf("old value after rotation = %q, %v", got, err)
	}
	if !rotated.Stale(sealed) || rotated.Stale(mustSeal(t, rotated)) || !rotated.Stale([]byte("plain")) {
		t.Error("Stale is wrong")
	}
	if id, _ := KeyID(mustSeal(t, rotated)); id != "k2" {
		t.Errorf("rotated ring seals with %q, want k2", id)
	}
	for _, keys := range [][]Key{nil, {key("K1", 1)}, {key("k1", 1), key("k1", 2)}, {{ID: "k1", Bytes: []byte("short")}}} {
		if _, err := NewKeyring(keys); err == nil {
			t.Errorf("keyring %v accepted", keys)
		}
	}
}

func mustSeal(t *testing.T, r *Keyring) []byte {
	t.Helper()
	v, err := r.Seal("/k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "keys")
	keys, err := CreateFile(path, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].ID != "k20260102030405" || len(keys[0].Bytes) != 32 {
		t.Errorf("new key %q of %d bytes", keys[0].ID, len(keys[0].Bytes))
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", st.Mode(), err)
	}
	if _, err := CreateFile(path, time.Now()); err == nil {
		t.Error("CreateFile overwrote an existing key file")
	}
	loaded, err := LoadFile(path)
	if err != nil || len(loaded) != 1 || !bytes.Equal(loaded[0].Bytes, keys[0].Bytes) {
		t.Fatalf("loaded %v, %v", loaded, err)
	}
	// Rotation: a new key on top.
	k2 := key("k2", 9)
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append([]byte(k2.Line()+"\n"), data...), 0o600); err != nil {
		t.Fatal(err)
	}
	if loaded, _ = LoadFile(path); len(loaded) != 2 || loaded[0].ID != "k2" {
		t.Errorf("after rotation the keys are %v", loaded)
	}
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others": {k2.Line(), 0o644, "chmod 600"},
		"not base64":         {"k1:!!!", 0o600, "not base64"},
		"short key":          {"k1:YWJj", 0o600, "has 3 bytes, want 32"},
		"no id":              {"abc", 0o600, "want <id>:<base64 key>"},
		"empty":              {"# nothing\n", 0o600, "holds no key"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(p, tc.mode)
		if _, err := LoadFile(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
