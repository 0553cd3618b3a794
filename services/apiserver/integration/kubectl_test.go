package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newKubectlConfig is newKubectl with a kubeconfig of the test's own (TLS,
// client certificates, tokens).
func newKubectlConfig(t *testing.T, kubeconfig string) *kubectl {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kubectl is required in CI: %v", err)
		}
		t.Skipf("kubectl not installed: %v", err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return &kubectl{bin: bin, kubeconfig: path}
}

// runStdin runs kubectl with stdin to its end and returns its combined output.
func (k *kubectl) runStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := k.command(ctx(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// step is one kubectl call and what its output must hold; wantErr says it must fail.
type step struct {
	name    string
	stdin   string
	args    []string
	want    []string
	wantErr bool
}

func (k *kubectl) steps(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		out, err := k.runStdin(t, s.stdin, s.args...)
		if (err != nil) != s.wantErr {
			t.Errorf("%s: kubectl %s: err %v (want error %v)\n%s", s.name, strings.Join(s.args, " "), err, s.wantErr, out)
			continue
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: kubectl %s output lacks %q:\n%s", s.name, strings.Join(s.args, " "), w, out)
			}
		}
	}
}
