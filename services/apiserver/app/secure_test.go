package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsureSAKey(t *testing.T) {
	t.Run("created 0600, atomically", func(t *testing.T) {
		dir := t.TempDir()
		path, err := ensureSAKey(dir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("sa.key: %v, %v; want mode 0600", st, err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("dir holds %v, want sa.key only (no temporary file left)", entries)
		}
		first, _ := os.ReadFile(path)
		again, err := ensureSAKey(dir)
		if err != nil || again != path {
			t.Fatalf("second ensureSAKey = %q, %v", again, err)
		}
		if second, _ := os.ReadFile(path); string(second) != string(first) {
			t.Fatal("an existing key was replaced")
		}
	})
	t.Run("an existing key readable by others is refused", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "sa.key"), []byte("k"), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := ensureSAKey(dir); err == nil || !strings.Contains(err.Error(), "has mode 0640: it must be 0600 or stricter") {
			t.Fatalf("ensureSAKey = %v", err)
		}
	})
	t.Run("a cert dir that is not a directory is an error", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ensureSAKey(file); err == nil || !strings.Contains(err.Error(), "service account key") {
			t.Fatalf("ensureSAKey = %v", err)
		}
	})
}
