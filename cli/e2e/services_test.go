//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// services walks seed 004's Services section with tug: deployment-for-
// service behind service-for-pods (get svc, get endpoints, describe svc
// with its Endpoints line), /info through the ClusterIP and by the
// Service's name from second-pod's shell (the proxy and the DNS tug up
// runs), scaled to 2, tug expose as a NodePort answering on the node's
// localhost; then deletes them and waits for the pods to go.
func services(t *testing.T) {
	m := c.manifests
	if out := ok(t, "apply", "-f", filepath.Join(m, "deployment-for-service.yaml")); out != "deployment.apps/deployment-for-service created\n" {
		t.Errorf("apply deployment printed %q", out)
	}
	if out := ok(t, "apply", "-f", filepath.Join(m, "service-for-pods.yaml")); out != "service/service-for-pods created\n" {
		t.Errorf("apply service printed %q", out)
	}
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^service-for-pods\s+10\.244\.\d+\.\d+:9876\s+\S+$`), "get", "endpoints")

	out := ok(t, "get", "svc")
	if !regexp.MustCompile(`^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP\s+\S+$`).MatchString(out) {
		t.Errorf("get svc:\n%s", out)
	}
	row := regexp.MustCompile(`(?m)^service-for-pods\s+ClusterIP\s+(10\.\d+\.\d+\.\d+)\s+<none>\s+80/TCP\s+\S+$`).FindStringSubmatch(out)
	if row == nil {
		t.Fatalf("get svc has no row for service-for-pods:\n%s", out)
	}
	ip := row[1]
	d := ok(t, "describe", "svc", "service-for-pods")
	for _, re := range []string{`(?m)^Name:\s+service-for-pods$`, `(?m)^Selector:\s+app=sise$`, `(?m)^Type:\s+ClusterIP$`,
		`(?m)^IP:\s+` + regexp.QuoteMeta(ip) + `$`, `(?m)^Port:\s+<unset>\s+80/TCP$`, `(?m)^TargetPort:\s+9876/TCP$`,
		`(?m)^Endpoints:\s+10\.244\.\d+\.\d+:9876$`} {
		if !regexp.MustCompile(re).MatchString(d) {
			t.Errorf("describe svc lacks %s:\n%s", re, d)
		}
	}

	// As the seed's curl from a pod: the ClusterIP, then the name.
	waitFor(t, 30*time.Second, regexp.MustCompile(`"host": "`+regexp.QuoteMeta(ip)+`", "version": "0.5.0"`),
		"exec", "second-pod", "-c", "shell", "--", "curl", "-s", "http://"+ip+"/info")
	waitFor(t, 30*time.Second, regexp.MustCompile(`"host": "service-for-pods", "version": "0.5.0"`),
		"exec", "second-pod", "-c", "shell", "--", "curl", "-s", "http://service-for-pods/info")

	if out := ok(t, "scale", "--replicas=2", "deployment", "deployment-for-service"); out != "deployment.apps/deployment-for-service scaled\n" {
		t.Errorf("scale printed %q", out)
	}
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^service-for-pods\s+10\.244\.\d+\.\d+:9876,10\.244\.\d+\.\d+:9876\s+\S+$`), "get", "endpoints", "service-for-pods")

	if out := ok(t, "expose", "deployment", "deployment-for-service", "--name=sise-np", "--type=NodePort", "--port=80", "--target-port=9876"); out != "service/sise-np exposed\n" {
		t.Errorf("expose printed %q", out)
	}
	np := regexp.MustCompile(`(?m)^sise-np\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:(3\d{4})/TCP\s+\S+$`).FindStringSubmatch(ok(t, "get", "svc", "sise-np"))
	if np == nil {
		t.Fatalf("get svc sise-np: no NodePort row")
	}
	url := "http://127.0.0.1:" + np[1] + "/info"
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("busybox", "timeout", "3", "busybox", "wget", "-qO-", url).CombinedOutput()
		if err == nil && strings.Contains(string(out), `"version": "0.5.0"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the NodePort on the node's localhost (%s): %v: %s", url, err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}

	if out := ok(t, "delete", "svc", "service-for-pods", "sise-np"); out != "service \"service-for-pods\" deleted\nservice \"sise-np\" deleted\n" {
		t.Errorf("delete svc printed %q", out)
	}
	ok(t, "delete", "deployment", "deployment-for-service")
	deadline = time.Now().Add(time.Minute)
	for {
		r := tug(t, "", "get", "pods", "-l", "app=sise")
		if r.code == 0 && r.out == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment-for-service's pods still there a minute after its deletion:\n%s%s", r.out, r.err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
