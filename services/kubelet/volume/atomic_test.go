package volume

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// versions lists dir's version directories ("..2026_...").
func versions(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if isVersion(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// A write that fails leaves no new version behind, and the old one stays
// current.
func TestWriteAtomicFailureRemovesNewVersion(t *testing.T) {
	dir := t.TempDir()
	if err := writeAtomic(dir, map[string]file{"k": {[]byte("v1"), 0o644}}); err != nil {
		t.Fatal(err)
	}
	before := versions(t, dir)
	if len(before) != 1 {
		t.Fatalf("versions %v, want one", before)
	}
	// A name longer than any file system allows fails the write.
	bad := map[string]file{"k": {[]byte("v2"), 0o644}, strings.Repeat("x", 300): {[]byte("x"), 0o644}}
	if err := writeAtomic(dir, bad); err == nil {
		t.Fatal("a write of a 300-byte name succeeded")
	}
	if got := versions(t, dir); len(got) != 1 || got[0] != before[0] {
		t.Errorf("after a failed write the versions are %v, want only %v", got, before)
	}
	if got := read(t, filepath.Join(dir, "k")); got != "v1" {
		t.Errorf("k = %q after a failed write, want the old v1", got)
	}
}

// Version directories a crash left are removed by the next write, whether
// the content changed or not.
func TestWriteAtomicRemovesStaleVersions(t *testing.T) {
	for _, changed := range []bool{false, true} {
		dir := t.TempDir()
		if err := writeAtomic(dir, map[string]file{"k": {[]byte("v1"), 0o644}}); err != nil {
			t.Fatal(err)
		}
		stale := filepath.Join(dir, "..2020_01_02_03_04_05.123456")
		if err := os.MkdirAll(stale, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(stale, "k"), make([]byte, 1024), 0o644); err != nil {
			t.Fatal(err)
		}
		content := "v1"
		if changed {
			content = "v2"
		}
		if err := writeAtomic(dir, map[string]file{"k": {[]byte(content), 0o644}}); err != nil {
			t.Fatal(err)
		}
		cur, err := os.Readlink(filepath.Join(dir, dataLink))
		if err != nil {
			t.Fatal(err)
		}
		if got := versions(t, dir); len(got) != 1 || got[0] != cur {
			t.Errorf("changed=%v: versions %v, want only the current %s", changed, got, cur)
		}
		if got := read(t, filepath.Join(dir, "k")); got != content {
			t.Errorf("changed=%v: k = %q, want %q", changed, got, content)
		}
	}
}
