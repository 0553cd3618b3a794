package serving

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// TestLoadOrCreateRefusals: a pki directory writable by group or others,
// or a pair that cannot be read, is refused and nothing is overwritten.
func TestLoadOrCreateRefusals(t *testing.T) {
	names := Names("127.0.0.1", "node1")
	tests := []struct {
		name    string
		break_  func(t *testing.T, dir string)
		wantErr string
	}{
		{name: "directory writable by group", break_: func(t *testing.T, dir string) { chmod(t, dir, 0o770) }, wantErr: "must not be writable by group or others"},
		{name: "directory writable by others", break_: func(t *testing.T, dir string) { chmod(t, dir, 0o703) }, wantErr: "must not be writable by group or others"},
		{name: "certificate unreadable (a directory)", break_: func(t *testing.T, dir string) { replaceWithDir(t, pki.Dir(dir).CertPath(Name)) }, wantErr: "is a directory"},
		{name: "key unreadable (a directory)", break_: func(t *testing.T, dir string) { replaceWithDir(t, pki.Dir(dir).KeyPath(Name)) }, wantErr: "is a directory"},
		{name: "certificate unreadable (a symlink loop), key missing", break_: func(t *testing.T, dir string) {
			d := pki.Dir(dir)
			if err := os.Remove(d.KeyPath(Name)); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(d.CertPath(Name)); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(d.CertPath(Name), d.CertPath(Name)); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "too many levels of symbolic links"},
		{name: "certificate garbage", break_: func(t *testing.T, dir string) {
			if err := os.WriteFile(pki.Dir(dir).CertPath(Name), []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "kubelet.crt"},
		{name: "pki path not a directory", break_: func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			if _, err := LoadOrCreate(dir, names); err != nil {
				t.Fatal(err)
			}
			tt.break_(t, dir)
			before := snapshot(t, filepath.Dir(dir))
			_, err := LoadOrCreate(dir, names)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadOrCreate = %v, want an error saying %q", err, tt.wantErr)
			}
			if after := snapshot(t, filepath.Dir(dir)); !bytes.Equal(before, after) {
				t.Errorf("a refused LoadOrCreate changed the files:\n%s\nthen\n%s", before, after)
			}
		})
	}
	t.Run("directory readable by group is accepted", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pki")
		first, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		chmod(t, dir, 0o750)
		again, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		if again.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
			t.Error("the pair was replaced")
		}
	})
	t.Run("a missing key makes a new pair", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "pki")
		first, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(pki.Dir(dir).KeyPath(Name)); err != nil {
			t.Fatal(err)
		}
		fresh, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		if fresh.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
			t.Error("the certificate was kept without its key")
		}
	})
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func replaceWithDir(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

// snapshot is every path under root with its mode and content.
func snapshot(t *testing.T, root string) []byte {
	t.Helper()
	var b bytes.Buffer
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + info.Mode().String() + "\n")
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
