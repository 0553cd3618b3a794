package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/cli/golden"
)

// TestInitPhaseKubeconfigSplit runs tug init phase kubeconfig --split
// --signing-ca, compares what it prints, and checks a kubeconfig others
// could read is reissued 0600 on the next run.
func TestInitPhaseKubeconfigSplit(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	ok(t, "init", "phase", "certs", "--cert-dir", pkiDir)
	args := []string{"init", "phase", "kubeconfig", "--cert-dir", pkiDir, "--server", "https://127.0.0.1:6443", "--out", filepath.Join(dir, "etc"), "--node-name", "node-1", "--split", "--signing-ca"}
	out := ok(t, args...)
	golden.Check(t, "init-phase-kubeconfig-split", []byte(strings.ReplaceAll(out, dir, "$DIR")))
	for _, f := range []string{"etc/admin/kubeconfig", "etc/kubelet/kubeconfig", "etc/controller-manager/ca.key"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi, err)
		}
	}
	admin := filepath.Join(dir, "etc/admin/kubeconfig")
	before, err := os.ReadFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(admin, 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, args...)
	after, err := os.ReadFile(admin)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(admin); err != nil || fi.Mode().Perm() != 0o600 || string(after) == string(before) {
		t.Errorf("a world-readable admin kubeconfig after a rerun: %v, %v, rewritten %v; want reissued 0600", fi, err, string(after) != string(before))
	}
}

func TestInitPhaseKubeconfigSigningCAWithoutSplit(t *testing.T) {
	dir := t.TempDir()
	r := tug(t, "init", "phase", "kubeconfig", "--cert-dir", certDir, "--server", "https://127.0.0.1:6443", "--out", filepath.Join(dir, "x"), "--signing-ca")
	if r.code == 0 || !strings.Contains(r.err, "--signing-ca needs --split") {
		t.Errorf("exit %d, stderr %q; want an error naming --signing-ca needs --split", r.code, r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Error("a refused kubeconfig phase wrote its directory")
	}
}
