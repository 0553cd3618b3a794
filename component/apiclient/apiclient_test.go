package apiclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/component/observe"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: http://127.0.0.1:1
contexts:
- name: c
  context:
    cluster: c
    user: u
users:
- name: u
  user: {}
current-context: c
`

func TestDial(t *testing.T) {
	t.Run("a missing kubeconfig is named", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		_, err := Dial(context.Background(), observe.NewServer(), missing, "test")
		if err == nil || !strings.Contains(err.Error(), "load kubeconfig") || !strings.Contains(err.Error(), missing) {
			t.Fatalf("Dial(%s) = %v; want an error naming the kubeconfig", missing, err)
		}
	})
	t.Run("the kubeconfig's server is the target", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
			t.Fatal(err)
		}
		conn, err := Dial(context.Background(), observe.NewServer(), path, "test")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if !strings.Contains(conn.Target(), "127.0.0.1:1") {
			t.Fatalf("Target() = %q, want the kubeconfig's server", conn.Target())
		}
	})
}
