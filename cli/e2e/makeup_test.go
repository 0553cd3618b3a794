//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeUp runs the README's first command's script (make up runs it
// after deps, build and images): the cluster, the sise pod, and how to
// reach it; run again, it leaves both as they are.
func TestMakeUp(t *testing.T) {
	flags := strings.Join(c.upArgs()[1:], " ")
	run := func() string {
		t.Helper()
		cmd := exec.Command(filepath.Join(c.root, "hack/up.sh"))
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig, "TUG_UP_FLAGS="+flags)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hack/up.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run()
	for _, re := range []string{`(?m)^Tugboat is up: node ` + c.node + ` is Ready`, `(?m)^pod/sise created$`,
		`(?m)^The sise pod runs at 10\.244\.\d+\.\d+ and answers:\n  \{"host": "localhost:9876", "version": "0\.5\.0", "from": "127\.0\.0\.1"\}$`,
		`(?m)^  curl http://10\.244\.\d+\.\d+:9876/info `} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("make up output lacks %s:\n%s", re, out)
		}
	}
	out = run()
	if !strings.Contains(out, "A Tugboat cluster is already running.\npod/sise unchanged\n") {
		t.Errorf("second make up:\n%s", out)
	}
	down(t, true)
}
