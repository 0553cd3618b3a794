package command

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
)

// TestServiceAccountToken: tug create serviceaccount, tug get sa, a
// RoleBinding to view, tug create token; the token lists pods over REST in
// its namespace and is refused (403) in another.
func TestServiceAccountToken(t *testing.T) {
	ns := namespace(t)
	other := ns + "-other"
	ok(t, "create", "namespace", other)
	if got := ok(t, "-n", ns, "create", "serviceaccount", "builder"); got != "serviceaccount/builder created\n" {
		t.Errorf("create serviceaccount printed %q", got)
	}
	got := ok(t, "-n", ns, "get", "sa")
	if !regexp.MustCompile(`(?m)^NAME\s+SECRETS\s+AGE\n`).MatchString(got) || !regexp.MustCompile(`(?m)^builder\s+0\s+\S+$`).MatchString(got) {
		t.Errorf("get sa:\n%s", got)
	}
	binding := filepath.Join(t.TempDir(), "binding.yaml")
	manifest := "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: builder-view\n  namespace: " + ns +
		"\nsubjects:\n- kind: ServiceAccount\n  name: builder\n  namespace: " + ns + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\n"
	if err := os.WriteFile(binding, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, "apply", "-f", binding)

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"too short", []string{"--duration", "5m"}, "spec.expirationSeconds"},
		{"not whole seconds", []string{"--duration", "10m500ms"}, "not a whole number of seconds"},
		{"empty audience", []string{"--audience", ""}, "--audience may not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tug(t, append([]string{"-n", ns, "create", "token", "builder"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.err, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.err, tt.wantErr)
			}
		})
	}
	if r := tug(t, "-n", ns, "create", "token", "nobody"); r.code == 0 || !strings.Contains(r.err, `"nobody" not found`) {
		t.Errorf("token of a missing account: exit %d %q", r.code, r.err)
	}

	token := strings.TrimSpace(ok(t, "-n", ns, "create", "token", "builder", "--duration", "10m"))
	if strings.Count(token, ".") != 2 {
		t.Fatalf("create token printed %q, want a JWT", token)
	}
	list := func(namespace string) int {
		t.Helper()
		cfg, err := config.Load(kubeconfig, "")
		if err != nil {
			t.Fatal(err)
		}
		tc, err := config.TLSConfig(&config.Config{CAData: cfg.CAData})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), "GET", cfg.Server+"/api/v1/namespaces/"+namespace+"/pods", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The binding and the account reach the apiserver's caches by watch: poll.
	deadline := time.Now().Add(10 * time.Second)
	code := list(ns)
	for code != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		code = list(ns)
	}
	if code != http.StatusOK {
		t.Fatalf("the token lists pods in %s: HTTP %d, want 200", ns, code)
	}
	if code := list(other); code != http.StatusForbidden {
		t.Fatalf("the token lists pods in %s: HTTP %d, want 403", other, code)
	}
}
