package command

import (
	"strings"
	"testing"
)

// A re-apply lays over only what the manifest sets: a Deployment whose
// manifest has no replicas keeps the count tug scale gave it, and the
// same manifest applied again is unchanged.
func TestReapplyKeepsFieldsTheManifestLeavesOut(t *testing.T) {
	ns := namespace(t)
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: sise
        image: tugboat.local/sise:0.5.0
`
	if r := tugIn(t, manifest, "-n", ns, "apply", "-f", "-"); r.code != 0 || r.out != "deployment.apps/web created\n" {
		t.Fatalf("first apply: exit %d, %q %q", r.code, r.out, r.err)
	}
	ok(t, "-n", ns, "scale", "deployment", "web", "--replicas=4")
	if r := tugIn(t, manifest, "-n", ns, "apply", "-f", "-"); r.code != 0 || r.out != "deployment.apps/web unchanged\n" {
		t.Fatalf("re-apply after scale: exit %d, %q %q", r.code, r.out, r.err)
	}
	if got := ok(t, "-n", ns, "get", "deployment", "web", "-o", "yaml"); !strings.Contains(got, "\n  replicas: 4\n") {
		t.Errorf("replicas after re-apply, want 4:\n%s", got)
	}
	// A field the manifest does set still wins over the stored one.
	with := strings.Replace(manifest, "spec:\n  selector:", "spec:\n  replicas: 2\n  selector:", 1)
	if r := tugIn(t, with, "-n", ns, "apply", "-f", "-"); r.code != 0 || r.out != "deployment.apps/web configured\n" {
		t.Fatalf("apply with replicas 2: exit %d, %q %q", r.code, r.out, r.err)
	}
	if got := ok(t, "-n", ns, "get", "deployment", "web", "-o", "yaml"); !strings.Contains(got, "\n  replicas: 2\n") {
		t.Errorf("replicas after apply with 2, want 2:\n%s", got)
	}
}
