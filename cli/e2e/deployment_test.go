//go:build e2e

package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// deployment walks seed 004's deployment-09 (sise with
// SIMPLE_SERVICE_VERSION 0.9, then 1.0 by apply) through the controller-
// manager tug up runs: rollout status, history, undo back to 0.9 (checked
// on /info from second-pod's shell), and scale to 1; then deletes it and
// waits for its pods to go.
func deployment(t *testing.T) {
	m := c.manifests
	if out := ok(t, "apply", "-f", filepath.Join(m, "deployment-09-v0.9.yaml")); out != "deployment.apps/deployment-09 created\n" {
		t.Errorf("apply printed %q", out)
	}
	rolledOut(t)
	waitFor(t, 30*time.Second, regexp.MustCompile(`(?m)^deployment-09\s+2/2\s+2\s+2\s+\S+$`), "get", "deploy")
	if out := ok(t, "get", "rs"); !regexp.MustCompile(`(?m)^deployment-09-[a-z0-9]+\s+2\s+2\s+2\s+\S+$`).MatchString(out) {
		t.Errorf("get rs:\n%s", out)
	}
	if out := ok(t, "apply", "-f", filepath.Join(m, "deployment-09-v1.0.yaml")); out != "deployment.apps/deployment-09 configured\n" {
		t.Errorf("apply v1.0 printed %q", out)
	}
	rolledOut(t)
	waitFor(t, 30*time.Second, regexp.MustCompile(`^deployment.apps/deployment-09\nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n$`),
		"rollout", "history", "deployment", "deployment-09")
	versionIs(t, "1.0")

	if out := ok(t, "rollout", "undo", "deployment", "deployment-09", "--to-revision=1"); out != "deployment.apps/deployment-09 rolled back\n" {
		t.Errorf("undo printed %q", out)
	}
	rolledOut(t)
	waitFor(t, 30*time.Second, regexp.MustCompile(`^deployment.apps/deployment-09\nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n$`),
		"rollout", "history", "deployment", "deployment-09")
	versionIs(t, "0.9")
	if r := tug(t, "", "rollout", "undo", "deployment", "deployment-09", "--to-revision=7"); r.code != 1 ||
		r.err != "error: unable to find the specified revision 7 in the history of deployment \"deployment-09\"\n" {
		t.Errorf("undo to a missing revision: exit %d, stderr %q", r.code, r.err)
	}

	if out := ok(t, "scale", "--replicas=1", "deployment", "deployment-09"); out != "deployment.apps/deployment-09 scaled\n" {
		t.Errorf("scale printed %q", out)
	}
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^deployment-09\s+1/1\s+1\s+1\s+\S+$`), "get", "deploy")

	if out := ok(t, "delete", "deployment", "deployment-09"); out != "deployment.apps \"deployment-09\" deleted\n" {
		t.Errorf("delete printed %q", out)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		r := tug(t, "", "get", "pods", "-l", "app=sise")
		if r.code == 0 && r.out == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment-09's pods still there a minute after its deletion:\n%s%s", r.out, r.err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// rolledOut waits for deployment-09's rollout with tug rollout status.
func rolledOut(t *testing.T) {
	t.Helper()
	out := ok(t, "rollout", "status", "deployment/deployment-09", "--timeout=2m")
	if !strings.HasSuffix(out, "deployment \"deployment-09\" successfully rolled out\n") {
		t.Errorf("rollout status printed %q", out)
	}
}

// versionIs checks that every running pod of deployment-09 answers /info
// with version, asked from second-pod's shell as the seed does with curl.
func versionIs(t *testing.T, version string) {
	t.Helper()
	out := ok(t, "get", "pods", "-l", "app=sise", "-o", "wide", "--no-headers")
	ips := regexp.MustCompile(`(?m)^deployment-09-\S+\s+1/1\s+Running\s+\S+\s+\S+\s+(10\.244\.\d+\.\d+)\s`).FindAllStringSubmatch(out, -1)
	if len(ips) == 0 {
		t.Fatalf("no running pod of deployment-09:\n%s", out)
	}
	for _, ip := range ips {
		got := ok(t, "exec", "second-pod", "-c", "shell", "--", "curl", "-s", "http://"+ip[1]+":9876/info")
		if !strings.Contains(got, `"version": "`+version+`"`) {
			t.Errorf("/info of %s: %q, want version %s", ip[1], got, version)
		}
	}
}
