package integration

import (
	"net/http"
	"testing"
)

// TestPersistenceAcrossRestart stops the server and starts a new one on the
// same data dir: the objects are there, unchanged.
func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, options{dataDir: dir})
	paths := []string{"/api/v1/namespaces/keep/pods/kept", "/apis/apps/v1/namespaces/keep/deployments/kept"}
	first.createNamespace(t, "keep")
	first.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/keep/pods", podJSON("kept", map[string]string{"a": "b"}))
	first.must(t, http.StatusCreated, "POST", "/apis/apps/v1/namespaces/keep/deployments", deploymentJSON("kept", 2))
	want := map[string]obj{}
	for _, p := range paths {
		want[p] = first.must(t, http.StatusOK, "GET", p, nil)
	}
	first.stop()

	second := start(t, options{dataDir: dir})
	for _, p := range paths {
		got := second.must(t, http.StatusOK, "GET", p, nil)
		for _, f := range []string{"uid", "resourceVersion", "creationTimestamp"} {
			if str(got, "metadata", f) != str(want[p], "metadata", f) || str(got, "metadata", f) == "" {
				t.Fatalf("%s metadata.%s after restart = %q, want %q", p, f, str(got, "metadata", f), str(want[p], "metadata", f))
			}
		}
	}
	if got := str(second.must(t, http.StatusOK, "GET", paths[0], nil), "metadata", "labels", "a"); got != "b" {
		t.Fatalf("pod label after restart = %q, want b", got)
	}
	second.must(t, http.StatusOK, "GET", "/api/v1/namespaces/keep", nil)
	second.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default", nil)
}
