package command

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// deployment09 is seed 004's deployment-09 with replicas set to n and
// SIMPLE_SERVICE_VERSION to version.
func deployment09(t *testing.T, n int, version string) string {
	t.Helper()
	data, err := os.ReadFile(seeds + "deployment-09-v0.9.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "replicas: 2", "replicas: "+string(rune('0'+n)), 1)
	return strings.Replace(s, `value: "0.9"`, `value: "`+version+`"`, 1)
}

// until runs tug until its output matches want or the deadline passes.
func until(t *testing.T, timeout time.Duration, want *regexp.Regexp, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := tug(t, args...)
		if r.code == 0 && want.MatchString(r.out) {
			return r.out
		}
		if time.Now().After(deadline) {
			t.Fatalf("tug %s did not print %v within %v; last: exit %d %q %q", strings.Join(args, " "), want, timeout, r.code, r.out, r.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRolloutHistoryUndoAndStatus runs the rollout verbs on seed 004's
// deployment-09 with 0 replicas (no kubelet runs here, so no pod is ever
// ready; with 0 replicas a rollout finishes without any).
func TestRolloutHistoryUndoAndStatus(t *testing.T) {
	controllers(t)
	ns := namespace(t)
	if r := tugIn(t, deployment09(t, 0, "0.9"), "-n", ns, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply v0.9: %q", r.err)
	}
	if got := ok(t, "-n", ns, "rollout", "status", "deployment", "deployment-09", "--timeout=30s"); !strings.HasSuffix(got, "deployment \"deployment-09\" successfully rolled out\n") {
		t.Fatalf("rollout status printed %q", got)
	}
	if r := tugIn(t, deployment09(t, 0, "1.0"), "-n", ns, "apply", "-f", "-"); r.code != 0 || r.out != "deployment.apps/deployment-09 configured\n" {
		t.Fatalf("apply v1.0: exit %d %q %q", r.code, r.out, r.err)
	}
	ok(t, "-n", ns, "rollout", "status", "deploy/deployment-09", "--timeout=30s")
	history := "deployment.apps/deployment-09\nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
	until(t, 10*time.Second, regexp.MustCompile("^"+regexp.QuoteMeta(history)+"$"), "-n", ns, "rollout", "history", "deployment", "deployment-09")

	if got := ok(t, "-n", ns, "rollout", "undo", "deployment", "deployment-09", "--to-revision=1"); got != "deployment.apps/deployment-09 rolled back\n" {
		t.Fatalf("undo printed %q", got)
	}
	// Revision 1 comes back as 3.
	history = "deployment.apps/deployment-09\nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n\n"
	until(t, 10*time.Second, regexp.MustCompile("^"+regexp.QuoteMeta(history)+"$"), "-n", ns, "rollout", "history", "deployment", "deployment-09")
	if got := ok(t, "-n", ns, "rollout", "history", "deployment/deployment-09", "--revision=3"); !strings.Contains(got, "with revision #3\nPod Template:\n") || !strings.Contains(got, "SIMPLE_SERVICE_VERSION:  0.9") {
		t.Errorf("history --revision=3 printed %q", got)
	}

	r := tug(t, "-n", ns, "rollout", "undo", "deployment", "deployment-09", "--to-revision=9")
	if r.code == 0 || r.err != "error: unable to find the specified revision 9 in the history of deployment \"deployment-09\"\n" {
		t.Errorf("undo to a missing revision: exit %d, stderr %q", r.code, r.err)
	}
	r = tug(t, "-n", ns, "rollout", "undo", "deployment", "nothing-here")
	if r.code == 0 || !strings.HasPrefix(r.err, "Error from server (NotFound): ") {
		t.Errorf("undo of a missing deployment: exit %d, stderr %q", r.code, r.err)
	}
	r = tug(t, "-n", ns, "rollout", "status", "rs", "whatever")
	if r.code == 0 || r.err != "error: rollout works on deployments, not replicasets\n" {
		t.Errorf("rollout of a replica set: exit %d, stderr %q", r.code, r.err)
	}
}

func TestRolloutPauseResumeRestart(t *testing.T) {
	controllers(t)
	ns := namespace(t)
	if r := tugIn(t, deployment09(t, 0, "0.9"), "-n", ns, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply: %q", r.err)
	}
	if got := ok(t, "-n", ns, "rollout", "pause", "deployment/deployment-09"); got != "deployment.apps/deployment-09 paused\n" {
		t.Fatalf("pause printed %q", got)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"pause"}, "error: deployment \"deployment-09\" is already paused\n"},
		{[]string{"restart"}, "error: deployment \"deployment-09\" is paused and cannot be restarted; resume it first\n"},
		{[]string{"undo"}, "error: deployment \"deployment-09\" is paused and cannot be rolled back; resume it first with \"tug rollout resume deployment/deployment-09\"\n"},
	} {
		r := tug(t, append(append([]string{"-n", ns, "rollout"}, c.args...), "deployment/deployment-09")...)
		if r.code == 0 || r.err != c.err {
			t.Errorf("rollout %s of a paused deployment: exit %d, stderr %q; want %q", c.args[0], r.code, r.err, c.err)
		}
	}
	if got := ok(t, "-n", ns, "rollout", "resume", "deployment/deployment-09"); got != "deployment.apps/deployment-09 resumed\n" {
		t.Fatalf("resume printed %q", got)
	}
	if r := tug(t, "-n", ns, "rollout", "resume", "deployment/deployment-09"); r.code == 0 || r.err != "error: deployment \"deployment-09\" is not paused\n" {
		t.Errorf("resume twice: exit %d, stderr %q", r.code, r.err)
	}
	if got := ok(t, "-n", ns, "rollout", "restart", "deployment/deployment-09"); got != "deployment.apps/deployment-09 restarted\n" {
		t.Fatalf("restart printed %q", got)
	}
	// The restart is a new revision.
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^2 +<none>$`), "-n", ns, "rollout", "history", "deployment/deployment-09")
}

// TestRolloutStatusWaitsAndTimesOut: with no kubelet the pods of a
// 2-replica deployment never become available, so status reports them
// and gives up at --timeout.
func TestRolloutStatusWaitsAndTimesOut(t *testing.T) {
	controllers(t)
	ns := namespace(t)
	if r := tugIn(t, deployment09(t, 2, "0.9"), "-n", ns, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply: %q", r.err)
	}
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^deployment-09 +0/2 +2 +0 `), "-n", ns, "get", "deploy")
	r := tug(t, "-n", ns, "rollout", "status", "deployment/deployment-09", "--timeout=1s")
	if r.code == 0 || r.err != "error: timed out waiting for the rollout of deployment \"deployment-09\" after 1s\n" {
		t.Errorf("status: exit %d, stderr %q", r.code, r.err)
	}
	if r.out != "Waiting for deployment \"deployment-09\" rollout to finish: 0 of 2 updated replicas are available...\n" {
		t.Errorf("status printed %q", r.out)
	}
	if got := ok(t, "-n", ns, "rollout", "status", "deployment/deployment-09", "--watch=false"); got != r.out {
		t.Errorf("status --watch=false printed %q, want %q", got, r.out)
	}
	out := ok(t, "-n", ns, "describe", "deployment", "deployment-09")
	for _, want := range []string{
		"Replicas:               2 desired | 2 updated | 2 total | 0 available | 2 unavailable\n",
		"StrategyType:           RollingUpdate\n",
		"RollingUpdateStrategy:  25% max unavailable, 25% max surge\n",
		"OldReplicaSets:  <none>\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe deployment lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^NewReplicaSet: +deployment-09-[a-z0-9]+ \(2/2 replicas created\)$`).MatchString(out) {
		t.Errorf("describe deployment lacks its NewReplicaSet:\n%s", out)
	}
}

func TestScaleThroughTheSubresource(t *testing.T) {
	controllers(t)
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"replicaset-x.yaml")
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^replicaset-x +3 +3 +0 `), "-n", ns, "get", "rs")
	if got := ok(t, "-n", ns, "scale", "--replicas=1", "rs", "replicaset-x"); got != "replicaset.apps/replicaset-x scaled\n" {
		t.Fatalf("scale printed %q", got)
	}
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^replicaset-x +1 +1 +0 `), "-n", ns, "get", "rs")
	r := tug(t, "-n", ns, "scale", "rs/replicaset-x", "--replicas=2", "--current-replicas=3")
	if r.code == 0 || r.err != "error: Expected replicas to be 3, was 1\n" {
		t.Errorf("scale with a wrong precondition: exit %d, stderr %q", r.code, r.err)
	}
	ok(t, "-n", ns, "scale", "rs/replicaset-x", "--replicas=2", "--current-replicas=1")
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^replicaset-x +2 +2 +0 `), "-n", ns, "get", "rs")
	if got := ok(t, "-n", ns, "scale", "--replicas=0", "-f", seeds+"replicaset-x.yaml"); got != "replicaset.apps/replicaset-x scaled\n" {
		t.Errorf("scale -f printed %q", got)
	}
	until(t, 10*time.Second, regexp.MustCompile(`(?m)^replicaset-x +0 +0 +0 `), "-n", ns, "get", "rs")
	if r := tug(t, "-n", ns, "scale", "--replicas=1"); r.code == 0 || r.err != "error: give what to scale: -f FILENAME, TYPE NAME or TYPE/NAME\n" {
		t.Errorf("scale of nothing: exit %d, stderr %q", r.code, r.err)
	}
	if r := tug(t, "-n", ns, "scale", "deployment/nothing-here", "--replicas=2"); r.code == 0 || !strings.HasPrefix(r.err, "Error from server (NotFound): ") {
		t.Errorf("scale of a missing deployment: exit %d, stderr %q", r.code, r.err)
	}
}

func TestCreateJobFromCronJob(t *testing.T) {
	ns := namespace(t)
	cron := `apiVersion: batch/v1
kind: CronJob
metadata:
  name: countdown
spec:
  schedule: "*/5 * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: counter
            image: tugboat.local/busybox:latest
            command: ["sh", "-c", "for i in 9 8 7 6 5 4 3 2 1; do echo $i; done"]
`
	if r := tugIn(t, cron, "-n", ns, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("apply cronjob: %q", r.err)
	}
	if got := ok(t, "-n", ns, "create", "job", "countdown-now", "--from=cronjob/countdown"); got != "job.batch/countdown-now created\n" {
		t.Fatalf("create job printed %q", got)
	}
	y := ok(t, "-n", ns, "get", "job", "countdown-now", "-o", "yaml")
	for _, want := range []string{"cronjob.kubernetes.io/instantiate: manual", "kind: CronJob", "name: countdown\n", "echo $i"} {
		if !strings.Contains(y, want) {
			t.Errorf("the job lacks %q:\n%s", want, y)
		}
	}
	r := tug(t, "-n", ns, "create", "job", "again", "--from=cronjob/nothing-here")
	if r.code == 0 || !strings.HasPrefix(r.err, "Error from server (NotFound): ") {
		t.Errorf("create job from a missing cronjob: exit %d, stderr %q", r.code, r.err)
	}
	r = tug(t, "-n", ns, "create", "job", "again", "--from=deployment/x")
	if r.code == 0 || r.err != "error: --from=deployment/x: a job is created from a cronjob only (--from=cronjob/NAME)\n" {
		t.Errorf("create job from a deployment: exit %d, stderr %q", r.code, r.err)
	}
}
