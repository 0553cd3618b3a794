package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/cli/golden"
	"github.com/tugboat-sh/tugboat/client/config"
)

// TestInitPhases runs tug init phase certs, then phase kubeconfig into a
// fresh directory, and compares what they print.
func TestInitPhases(t *testing.T) {
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, "pki")
	out := ok(t, "init", "phase", "certs", "--cert-dir", pkiDir, "--apiserver-advertise-address", "169.254.20.1", "--apiserver-cert-extra-sans", "apiserver,192.0.2.9")
	out += ok(t, "init", "phase", "kubeconfig", "--cert-dir", pkiDir, "--server", "https://169.254.20.1:6443", "--out", filepath.Join(dir, "conf"), "--node-name", "node-1")
	golden.Check(t, "init-phases", []byte(strings.ReplaceAll(out, dir, "$DIR")))
	for _, f := range []string{"pki/ca.key", "pki/sa.key", "pki/apiserver-kubelet-client.key", "conf/admin.conf", "conf/kubelet.conf"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi, err)
		}
	}
}

func TestInitPhasesBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"certs without a dir", []string{"init", "phase", "certs"}, `required flag(s) "cert-dir" not set`},
		{"certs, bad advertise address", []string{"init", "phase", "certs", "--cert-dir", filepath.Join(dir, "a"), "--apiserver-advertise-address", "nodeA"}, `--apiserver-advertise-address "nodeA" is not an IP address`},
		{"kubeconfig without a server", []string{"init", "phase", "kubeconfig", "--cert-dir", certDir, "--out", dir}, `required flag(s) "server" not set`},
		{"kubeconfig, plaintext server", []string{"init", "phase", "kubeconfig", "--cert-dir", certDir, "--out", filepath.Join(dir, "b"), "--server", "http://127.0.0.1:6443"}, `--server "http://127.0.0.1:6443": want https://HOST:PORT`},
		{"kubeconfig without a CA", []string{"init", "phase", "kubeconfig", "--cert-dir", filepath.Join(dir, "none"), "--out", filepath.Join(dir, "c"), "--server", "https://127.0.0.1:6443"}, "run tug init phase certs first"},
		{"user without a name", []string{"kubeconfig", "user", "--cert-dir", certDir, "--server", "https://127.0.0.1:6443"}, `required flag(s) "client-name" not set`},
		{"init, negative token TTL", []string{"init", "--data-dir", filepath.Join(dir, "d"), "--token-ttl", "-1h"}, "--token-ttl -1h0m0s: must not be negative"},
		{"up, negative token TTL", []string{"up", "--data-dir", filepath.Join(dir, "d"), "--token-ttl", "-1h"}, "--token-ttl -1h0m0s: must not be negative"},
		{"user, foreign CA dir", []string{"kubeconfig", "user", "--client-name", "x", "--cert-dir", filepath.Join(dir, "none"), "--server", "https://127.0.0.1:6443"}, "the cluster CA in --cert-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tug(t, tt.args...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error containing %q", r.code, r.err, tt.want)
			}
		})
	}
	for _, d := range []string{"b", "c", "d"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !os.IsNotExist(err) {
			t.Errorf("a refused kubeconfig phase wrote %s", d)
		}
	}
}

// TestKubeconfigUser makes a kubeconfig for a user with no binding: the
// apiserver knows who it is (forbidden, naming the user), and after a
// RoleBinding to view in one namespace it may list pods there and
// nowhere else, and not create any.
func TestKubeconfigUser(t *testing.T) {
	ns := namespace(t)
	admin, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	out := ok(t, "kubeconfig", "user", "--client-name", "viewer-jane", "--org", "viewers", "--cert-dir", certDir, "--server", admin.Server)
	jane := filepath.Join(t.TempDir(), "jane.conf")
	if err := os.WriteFile(jane, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) result { return tug(t, append([]string{"--kubeconfig", jane}, args...)...) }
	if r := as("get", "pods", "-n", ns); r.code == 0 || !strings.Contains(r.err, `User "viewer-jane" cannot list resource "pods"`) {
		t.Fatalf("no binding yet: exit %d, %q", r.code, r.err)
	}
	binding := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"jane-view","namespace":"` + ns + `"},` +
		`"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","name":"viewer-jane"}]}`
	if r := tugIn(t, binding, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("bind view: %s", r.err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r := as("get", "pods", "-n", ns); r.code != 0; r = as("get", "pods", "-n", ns) {
		if time.Now().After(deadline) {
			t.Fatalf("bound to view, list pods in %s: %s", ns, r.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := as("get", "pods", "-n", "default"); r.code == 0 || !strings.Contains(r.err, "forbidden") {
		t.Errorf("list pods in default: exit %d, %q; want forbidden", r.code, r.err)
	}
	if r := as("create", "namespace", "jane-ns"); r.code == 0 || !strings.Contains(r.err, "forbidden") {
		t.Errorf("create a namespace: exit %d, %q; want forbidden", r.code, r.err)
	}
}
