package rest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// kubectlRunner runs the real kubectl against a harness.
type kubectlRunner struct {
	bin, kubeconfig string
}

func newKubectl(t *testing.T, h *harness) *kubectlRunner {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl is required in CI: %v", err)
		}
		t.Skipf("kubectl not installed: %v", err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tugboat
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: tugboat
  context:
    cluster: tugboat
    user: admin
    namespace: default
current-context: tugboat
`, h.http.URL, b64(h.ca.CertPEM()), b64(h.adminCert), b64(h.adminKey))
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return &kubectlRunner{bin: bin, kubeconfig: path}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func (k *kubectlRunner) run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", filepath.Join(filepath.Dir(k.kubeconfig), "cache")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
`

func TestKubectl(t *testing.T) {
	h := newHarness(t)
	k := newKubectl(t, h)
	steps := []struct {
		name  string
		stdin string
		args  []string
		// want are substrings of kubectl's combined output.
		want []string
	}{
		{name: "raw discovery", args: []string{"get", "--raw", "/api/v1"}, want: []string{`"groupVersion":"v1"`, `"name":"pods"`}},
		{name: "api-resources", args: []string{"api-resources"}, want: []string{"pods", "po", "deployments", "apps/v1", "leases", "coordination.k8s.io/v1"}},
		{name: "version", args: []string{"version"}, want: []string{"Server Version: v1.34.0-tugboat"}},
		{name: "create", stdin: podYAML, args: []string{"create", "-f", "-"}, want: []string{"pod/nginx created"}},
		{name: "get pods", args: []string{"get", "pods"}, want: []string{"NAME", "nginx"}},
		{name: "get pod as json", args: []string{"get", "pod", "nginx", "-o", "jsonpath={.status.podIP}"}, want: []string{"10.244.0.5"}},
		{name: "get all namespaces", args: []string{"get", "po", "-A"}, want: []string{"nginx"}},
		{name: "label", args: []string{"label", "pod", "nginx", "tier=front"}, want: []string{"pod/nginx labeled"}},
		{name: "labelled", args: []string{"get", "pod", "nginx", "-o", "jsonpath={.metadata.labels.tier}"}, want: []string{"front"}},
		{name: "annotate", args: []string{"annotate", "pod", "nginx", "note=hi"}, want: []string{"pod/nginx annotated"}},
		{name: "delete", args: []string{"delete", "pod", "nginx"}, want: []string{`pod "nginx" deleted`}},
		{name: "get after delete", args: []string{"get", "pods"}, want: []string{"No resources found"}},
	}
	for _, s := range steps {
		out, err := k.run(t, s.stdin, s.args...)
		if err != nil {
			t.Errorf("%s: kubectl %s: %v\n%s", s.name, strings.Join(s.args, " "), err, out)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: kubectl %s output lacks %q:\n%s", s.name, strings.Join(s.args, " "), w, out)
			}
		}
	}
}

// syncBuffer is an output buffer safe to read while kubectl writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until it contains s, failing after a deadline.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("kubectl output never contained %q:\n%s", s, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKubectlWatch(t *testing.T) {
	h := newHarness(t)
	k := newKubectl(t, h)
	if r := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody("first")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, k.bin, "--kubeconfig", k.kubeconfig, "get", "pods", "-w", "--output-watch-events")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kubectl: %v", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	waitFor(t, out, "first")
	// kubectl lists, then watches from the list's resourceVersion; wait for
	// its watch to be registered before creating the next pod.
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.pods.mu.Lock()
		n := len(h.pods.watchers)
		h.pods.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl never started a watch:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody("second")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	waitFor(t, out, "second")
	h.do(t, "DELETE", "/api/v1/namespaces/default/pods/second", "")
	waitFor(t, out, "DELETED")
}
