// Package golden compares a test's output with a file under testdata
// (testdata/<name>.golden) and rewrites the file when the test runs with
// -update. Review the diff of rewritten files before committing them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files with the output the tests produce")

// Check fails t when got differs from testdata/<name>.golden.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run the test with -update to create it): %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (rerun with -update to accept it):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
