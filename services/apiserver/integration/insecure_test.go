package integration

import (
	"net/http"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestInsecure: --insecure serves plaintext, asks for no credentials,
// allows everything, and says so loudly: a multi-line warning at start and
// an insecure field in the "apiserver serving" line.
func TestInsecure(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	s := start(t, options{insecure: true, logCore: core})

	t.Run("plaintext without credentials may do anything", func(t *testing.T) {
		if !strings.HasPrefix(s.base, "http://") {
			t.Fatalf("base %s, want plaintext http://", s.base)
		}
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "open"}})
		if _, err := s.cs.Secrets().List(ctx(t), &metav1.ListOptions{Namespace: "kube-system"}); err != nil {
			t.Fatalf("gRPC list of secrets without credentials: %v", err)
		}
	})
	t.Run("TLS is not served", func(t *testing.T) {
		resp, err := (&http.Client{}).Get("https://" + s.addr + "/version")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("https answered %s", resp.Status)
		}
	})
	t.Run("it warns loudly", func(t *testing.T) {
		warn := logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("INSECURE").All()
		if len(warn) != 1 || strings.Count(warn[0].Message, "\n") < 4 || !strings.Contains(warn[0].Message, "AlwaysAllow") {
			t.Fatalf("insecure warnings %v, want one multi-line warning", warn)
		}
		serving := logs.FilterMessage("apiserver serving").All()
		if len(serving) != 1 || serving[0].ContextMap()["insecure"] != true || serving[0].ContextMap()["tls"] != false {
			t.Fatalf(`"apiserver serving" lines %v, want one with insecure=true tls=false`, serving)
		}
	})
}

// TestSecureServingLine: the default server says it is not insecure.
func TestSecureServingLine(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	start(t, options{logCore: core})
	serving := logs.FilterMessage("apiserver serving").All()
	if len(serving) != 1 || serving[0].ContextMap()["insecure"] != false || serving[0].ContextMap()["tls"] != true {
		t.Fatalf(`"apiserver serving" lines %v, want one with insecure=false tls=true`, serving)
	}
	if n := len(logs.FilterMessageSnippet("INSECURE").All()); n != 0 {
		t.Fatalf("%d insecure warnings from a secure server", n)
	}
}
