//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// joinLine is the join line tug up and tug init print, on a line of its own.
var joinLine = regexp.MustCompile(`(?m)^tug join (\S+) --token ([a-z0-9]{6})\.([a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$`)

// TestUpIsSecure: tug up's cluster is TLS with client certificates. The
// merged kubeconfig carries the CA and the admin's certificate, and
// kubectl works with it; a copy without the client certificate gets 401
// from kubectl; the printed join line's token is listed with its TTL and
// its hash is the CA's.
func TestUpIsSecure(t *testing.T) {
	out := ok(t, c.upArgs()...)
	t.Cleanup(func() { down(t, true) })
	kc, err := config.Load(c.kubeconfig, "tugboat")
	if err != nil {
		t.Fatal(err)
	}
	checkKubeconfig(t, kc, "https://"+c.apiAddr)
	checkJoinLine(t, out, c.apiAddr, kc, "23h", c.kubeconfig)
	if got := kubectl(t, c.kubeconfig, 0, "get", "nodes"); !regexp.MustCompile(`(?m)^` + c.node + `\s`).MatchString(got) {
		t.Errorf("kubectl get nodes:\n%s", got)
	}
	unauthorized(t, writeWithoutClientCert(t, kc))
}

// TestInit: tug init runs the control plane alone, prints the join line
// and merges the admin's kubeconfig; tug down stops it.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	data, kubeconfig := filepath.Join(dir, "data"), filepath.Join(dir, "kube", "config")
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	out := ok(t, "init", "--data-dir", data, "--kubeconfig", kubeconfig, "--listen-address", addr, "--token-ttl", "3h")
	t.Cleanup(func() {
		out, err := runTug("down", "--data-dir", data, "--purge")
		if err != nil || !strings.HasPrefix(string(out), "Tugboat's control plane stopped.\n") {
			t.Errorf("tug down: %v\n%s", err, out)
		}
		if pid, err := os.ReadFile(filepath.Join(data, "tug.pid")); err == nil {
			t.Errorf("tug init's process %s is left after tug down", strings.TrimSpace(string(pid)))
		}
	})
	if !regexp.MustCompile(`^Your Tugboat control plane is up \(\d+\.\ds\)\.\n`).MatchString(out) {
		t.Errorf("tug init printed:\n%s", out)
	}
	kc, err := config.Load(kubeconfig, "tugboat")
	if err != nil {
		t.Fatal(err)
	}
	checkKubeconfig(t, kc, "https://"+addr)
	checkJoinLine(t, out, addr, kc, "2h", kubeconfig)
	admin, err := config.Load(filepath.Join(data, "admin.conf"), "")
	if err != nil || admin.Server != kc.Server || string(admin.CertData) != string(kc.CertData) {
		t.Errorf("admin.conf and the merged context differ: %v", err)
	}
	if got := kubectl(t, kubeconfig, 0, "get", "namespaces"); !regexp.MustCompile(`(?m)^kube-system\s`).MatchString(got) {
		t.Errorf("kubectl get namespaces:\n%s", got)
	}
	unauthorized(t, writeWithoutClientCert(t, kc))
	// No node runs under tug init.
	if got := kubectl(t, kubeconfig, 0, "get", "nodes"); !strings.HasPrefix(got, "No resources found") {
		t.Errorf("kubectl get nodes after tug init:\n%s", got)
	}
	r := tug(t, "", "init", "--data-dir", data, "--kubeconfig", kubeconfig, "--listen-address", addr)
	if r.code == 0 || !strings.Contains(r.err, "a Tugboat cluster is already running here") {
		t.Errorf("second tug init: exit %d, stderr %q", r.code, r.err)
	}

	// A restart on the same data dir prints the same, still valid token.
	tokenRe := regexp.MustCompile(`(?m)^tug join \S+ --token (\S+) `)
	first := tokenRe.FindStringSubmatch(out)
	stop, err := runTug("down", "--data-dir", data)
	if err != nil || !strings.Contains(string(stop), "Its objects are kept in "+data+": tug init brings them back") {
		t.Fatalf("tug down: %v\n%s", err, stop)
	}
	out = ok(t, "init", "--data-dir", data, "--kubeconfig", kubeconfig, "--listen-address", addr, "--token-ttl", "3h")
	again := tokenRe.FindStringSubmatch(out)
	if first == nil || again == nil || again[1] != first[1] {
		t.Errorf("the restarted tug init's token %v, want the first run's %v", again, first)
	}
}

// checkKubeconfig: the context reaches server over TLS with the CA and
// the admin's client certificate (kubernetes-admin, system:masters).
func checkKubeconfig(t *testing.T, kc *config.Config, server string) {
	t.Helper()
	if kc.Server != server || len(kc.CAData) == 0 || len(kc.KeyData) == 0 {
		t.Fatalf("merged context: server %s (want %s), %d bytes of CA, %d of key", kc.Server, server, len(kc.CAData), len(kc.KeyData))
	}
	cert, err := pki.ParseCert(kc.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "kubernetes-admin" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:masters" {
		t.Errorf("merged context's user: %v", cert.Subject)
	}
}

// checkJoinLine: out has the join line for addr with the kubeconfig's CA
// hash, and tug token list shows its token with ttl left.
func checkJoinLine(t *testing.T, out, addr string, kc *config.Config, ttl, kubeconfig string) {
	t.Helper()
	m := joinLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no join line in:\n%s", out)
	}
	ca, err := pki.ParseCert(kc.CAData)
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != addr || m[4] != pki.Hash(ca) {
		t.Errorf("join line %q: want address %s and hash %s", m[0], addr, pki.Hash(ca))
	}
	list := ok(t, "--kubeconfig", kubeconfig, "token", "list")
	if !regexp.MustCompile(`(?m)^` + m[2] + `\.` + m[3] + `\s+` + ttl + `\s+\S+Z\s+authentication,signing\s`).MatchString(list) {
		t.Errorf("tug token list lacks the join line's token with TTL %s:\n%s", ttl, list)
	}
}

// writeWithoutClientCert is a copy of kc with the server and CA only. Its
// user has a name and nothing else: with no user at all kubectl asks for a
// password on its terminal, and a bare name sends no credential the
// apiserver reads (it logs "no client certificate or bearer token").
func writeWithoutClientCert(t *testing.T, kc *config.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "anonymous")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tugboat
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: nobody
  user: {username: nobody}
contexts:
- name: tugboat
  context: {cluster: tugboat, user: nobody}
current-context: tugboat
`, kc.Server, base64.StdEncoding.EncodeToString(kc.CAData))
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// unauthorized: kubectl with the kubeconfig at path is refused with 401,
// as kubectl words it for a list and for a raw GET.
func unauthorized(t *testing.T, path string) {
	t.Helper()
	if got := kubectl(t, path, 1, "get", "nodes"); !strings.Contains(got, "You must be logged in to the server") {
		t.Errorf("kubectl get nodes without a client certificate:\n%s\nwant 401 (You must be logged in to the server)", got)
	}
	if got := kubectl(t, path, 1, "get", "--raw", "/api/v1/nodes"); !strings.Contains(got, "You must be logged in to the server (Unauthorized)") {
		t.Errorf("kubectl get --raw without a client certificate:\n%s\nwant 401 (Unauthorized)", got)
	}
}

// kubectl runs the real kubectl with kubeconfig and wants exit code want;
// it returns the combined output.
func kubectl(t *testing.T, kubeconfig string, want int, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not installed (make deps installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	if code != want {
		t.Errorf("kubectl %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
	}
	return string(out)
}
