//go:build e2e

package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUpRefusesPlainly: a taken port and missing images are named, and
// nothing starts.
func TestUpRefusesPlainly(t *testing.T) {
	l, err := net.Listen("tcp", c.apiAddr)
	if err != nil {
		t.Fatal(err)
	}
	r := tug(t, "", c.upArgs()...)
	l.Close()
	if r.code == 0 || !strings.Contains(r.err, "port "+c.apiAddr+", the apiserver's (--listen-address), is taken by another program") {
		t.Errorf("port taken: exit %d, stderr %q", r.code, r.err)
	}
	r = tug(t, "", append(c.upArgs(), "--images", t.TempDir())...)
	if r.code == 0 || !strings.Contains(r.err, "the image archive pause.tar is missing from") || !strings.Contains(r.err, `"make images"`) {
		t.Errorf("no images: exit %d, stderr %q", r.code, r.err)
	}
	// Not root: run as nobody (setpriv is util-linux's, on every Debian).
	cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", c.tug}, c.upArgs()...)...)
	cmd.Env = append(os.Environ(), "HOME=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "tug up must run as root: it runs containers (containerd, runc) and sets up the pod network (a bridge, routes); run it with sudo") {
		t.Errorf("tug up as nobody: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "tug.pid")); err == nil {
		t.Errorf("a refused tug up left a cluster process")
	}
}

// TestSeed004 walks seed 004's pods with tug, checking what it prints.
func TestSeed004(t *testing.T) {
	m := c.manifests
	up(t)

	t.Run("nodes", func(t *testing.T) {
		out := ok(t, "get", "nodes")
		if !regexp.MustCompile(`(?m)^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$`).MatchString(out) || !regexp.MustCompile(`(?m)^`+c.node+`\s+Ready\s+<none>\s+\S+\s+v1\.34\.0-tugboat$`).MatchString(out) {
			t.Errorf("get nodes:\n%s", out)
		}
	})

	var firstIP string
	t.Run("first-pod", func(t *testing.T) {
		if out := ok(t, "run", "first-pod", "--image=tugboat.local/sise:0.5.0", "--port=9876"); out != "pod/first-pod created\n" {
			t.Errorf("run printed %q", out)
		}
		out := waitFor(t, time.Minute, regexp.MustCompile(`(?m)^first-pod\s+1/1\s+Running\s+0\s+\S+$`), "get", "pods")
		if !strings.HasPrefix(out, "NAME") || !regexp.MustCompile(`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n`).MatchString(out) {
			t.Errorf("get pods header:\n%s", out)
		}
		d := ok(t, "describe", "pod", "first-pod")
		ip := regexp.MustCompile(`(?m)^IP:\s+(10\.244\.\d+\.\d+)$`).FindStringSubmatch(d)
		if ip == nil {
			t.Fatalf("describe pod has no IP: line:\n%s", d)
		}
		firstIP = ip[1]
	})

	t.Run("second-pod", func(t *testing.T) {
		if out := ok(t, "apply", "-f", filepath.Join(m, "second-pod.yaml")); out != "pod/second-pod created\n" {
			t.Errorf("apply printed %q", out)
		}
		waitFor(t, time.Minute, regexp.MustCompile(`(?m)^second-pod\s+2/2\s+Running\s+0\s`), "get", "pods")
		if out := ok(t, "apply", "-f", filepath.Join(m, "second-pod.yaml")); out != "pod/second-pod unchanged\n" {
			t.Errorf("re-apply printed %q", out)
		}
		// exec -i -t as in the seed; without a terminal tug says so and
		// runs the command with standard input alone.
		r := tug(t, "wget -qO- http://localhost:9876/info\nexit\n", "exec", "second-pod", "-c", "shell", "-i", "-t", "--", "bash")
		if r.code != 0 || !strings.Contains(r.out, `{"host": "localhost:9876", "version": "0.5.0", "from": "127.0.0.1"}`) {
			t.Errorf("exec -i -t bash: exit %d\n%s%s", r.code, r.out, r.err)
		}
		if firstIP != "" {
			out := ok(t, "exec", "second-pod", "-c", "shell", "--", "curl", "-s", "http://"+firstIP+":9876/info")
			if !strings.Contains(out, `"host": "`+firstIP+`:9876"`) {
				t.Errorf("pod to pod /info: %q", out)
			}
		}
		r = tug(t, "", "exec", "second-pod", "-c", "shell", "--", "sh", "-c", "echo oops >&2; exit 3")
		if r.code != 3 || r.err != "oops\ncommand terminated with exit code 3\n" {
			t.Errorf("exit code passed on: exit %d, stderr %q", r.code, r.err)
		}
		d := ok(t, "describe", "pod", "second-pod")
		for _, re := range []string{`(?m)^Node:\s+` + c.node + `/127\.0\.0\.1$`, `(?m)^Status:\s+Running$`, `(?m)^  sise:$`, `(?m)^  shell:$`,
			`(?m)^    Limits:\n      cpu:\s+500m\n      memory:\s+64Mi$`, `(?m)^QoS Class:\s+Burstable$`, `(?m)^  PodScheduled\s+True$`,
			`(?m)^  Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/second-pod to ` + c.node + `$`,
			`(?m)^  Normal\s+Started\s+\S+\s+kubelet\s+Started container shell$`} {
			if !regexp.MustCompile(re).MatchString(d) {
				t.Errorf("describe pod second-pod lacks %s:\n%s", re, d)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		out := ok(t, "logs", "second-pod", "-c", "sise")
		if !strings.Contains(out, "sise 0.5.0 listening on :9876") || !strings.Contains(out, "/info") {
			t.Errorf("logs -c sise:\n%s", out)
		}
		if out := ok(t, "logs", "--tail=1", "second-pod", "-c", "sise"); strings.Count(out, "\n") != 1 {
			t.Errorf("logs --tail=1: %q", out)
		}
		// A container name is needed for a pod of two; tug takes the first and says so.
		r := tug(t, "", "logs", "second-pod")
		if r.code != 0 || r.err != "Defaulted container \"sise\" out of: sise, shell\n" {
			t.Errorf("logs without -c: exit %d, stderr %q", r.code, r.err)
		}
		if out := ok(t, "logs", "--since=1h", "first-pod"); !strings.Contains(out, "listening on :9876") {
			t.Errorf("logs --since: %q", out)
		}
		followLogs(t)
	})

	t.Run("logs-previous", func(t *testing.T) {
		// $$$$ is the kubelet's escape for $$ (Kubernetes reduces $$ to $ in
		// command and args), so the shell prints its pid.
		ok(t, "run", "crasher", "--image=tugboat.local/shell:latest", "--command", "--", "sh", "-c", "echo run $$$$; exit 1")
		out := waitFor(t, time.Minute, regexp.MustCompile(`(?m)^crasher\s+0/1\s+\S+\s+1 \(\S+ ago\)\s`), "get", "pods")
		if !regexp.MustCompile(`(?m)^crasher\s+0/1\s+(CrashLoopBackOff|Error|Completed)\s`).MatchString(out) {
			t.Errorf("a crashing pod's row:\n%s", out)
		}
		if out := ok(t, "logs", "-p", "crasher"); !regexp.MustCompile(`^run \d+\n$`).MatchString(out) {
			t.Errorf("logs -p: %q", out)
		}
		ok(t, "delete", "pod", "crasher", "--now")
	})

	t.Run("specific-pod-node", func(t *testing.T) {
		if out := ok(t, "label", "nodes", c.node, "shouldrun=here"); out != "node/"+c.node+" labeled\n" {
			t.Errorf("label node printed %q", out)
		}
		ok(t, "apply", "-f", filepath.Join(m, "specific-pod-node.yaml"))
		out := waitFor(t, time.Minute, regexp.MustCompile(`(?m)^specific-pod-node\s+1/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+`+c.node+`\s`), "get", "pods", "--output=wide")
		if !regexp.MustCompile(`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n`).MatchString(out) {
			t.Errorf("get pods -o wide header:\n%s", out)
		}
		d := ok(t, "describe", "node", c.node)
		for _, re := range []string{`(?m)^Name:\s+` + c.node + `$`, `(?m)^\s+shouldrun=here$`, `(?m)^  Ready\s+True\s`, `(?m)^  InternalIP:\s+127\.0\.0\.1$`,
			`(?m)^Capacity:$`, `(?m)^Allocatable:$`, `(?m)^  Kubelet Version:\s+v1\.34\.0-tugboat$`, `(?m)^Non-terminated Pods:\s+\(3 in total\)$`,
			`(?m)^  default\s+second-pod\s+500m \(\d+%\)\s+500m \(\d+%\)\s+64Mi \(\d+%\)\s+64Mi \(\d+%\)\s`, `(?m)^  cpu\s+500m \(\d+%\)\s+500m \(\d+%\)$`} {
			if !regexp.MustCompile(re).MatchString(d) {
				t.Errorf("describe node lacks %s:\n%s", re, d)
			}
		}
	})

	t.Run("pod-label", func(t *testing.T) {
		ok(t, "apply", "-f", filepath.Join(m, "pod-label.yaml"))
		waitFor(t, time.Minute, regexp.MustCompile(`(?m)^pod-label\s+1/1\s+Running\s+0\s+\S+\s+env=development$`), "get", "pods", "--show-labels")
		if out := ok(t, "label", "pods", "pod-label", "owner=ipeacocks"); out != "pod/pod-label labeled\n" {
			t.Errorf("label printed %q", out)
		}
		if out := ok(t, "get", "pods", "--show-labels"); !regexp.MustCompile(`(?m)^pod-label\s.*\senv=development,owner=ipeacocks$`).MatchString(out) {
			t.Errorf("labels after tug label:\n%s", out)
		}
		for _, sel := range []string{"owner=ipeacocks", "env in (production, development)"} {
			if got := rows(ok(t, "get", "pods", "--selector", sel)); len(got) != 1 || got[0] != "pod-label" {
				t.Errorf("--selector %q: %v, want [pod-label]", sel, got)
			}
		}
		if out := ok(t, "label", "pods", "pod-label", "owner-"); out != "pod/pod-label labeled\n" {
			t.Errorf("label remove printed %q", out)
		}
	})

	t.Run("deployment", deployment)

	t.Run("services", services)

	t.Run("delete", func(t *testing.T) {
		if out := ok(t, "delete", "pod", "first-pod"); out != "pod \"first-pod\" deleted\n" {
			t.Errorf("delete printed %q", out)
		}
		r := tug(t, "", "get", "pod", "first-pod")
		if r.code != 1 || r.err != "Error from server (NotFound): pods \"first-pod\" not found\n" {
			t.Errorf("get deleted pod: exit %d %q", r.code, r.err)
		}
		ok(t, "delete", "-f", filepath.Join(m, "specific-pod-node.yaml"))
		if out := ok(t, "delete", "pods", "-l", "env=development"); out != "pod \"pod-label\" deleted\n" {
			t.Errorf("delete -l printed %q", out)
		}
		// second-pod's shell ignores SIGTERM: --now.
		if out := ok(t, "delete", "pods", "--all", "--now"); out != "pod \"second-pod\" deleted\n" {
			t.Errorf("delete --all printed %q", out)
		}
		if r := tug(t, "", "get", "pods"); r.out != "" || r.err != "No resources found in default namespace.\n" {
			t.Errorf("pods left: %q %q", r.out, r.err)
		}
	})

	down(t, false)
}

// TestUpAfterCrashAndDown: a killed tug up is brought back by tug up with its
// objects and running pods; tug up after tug down works and brings the
// objects back.
func TestUpAfterCrashAndDown(t *testing.T) {
	up(t)
	ok(t, "run", "survivor", "--image=tugboat.local/sise:0.5.0", "--port=9876")
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^survivor\s+1/1\s+Running\s`), "get", "pods")
	b, err := os.ReadFile(filepath.Join(c.dataDir, "tug.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill tug up (pid %d): %v", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after SIGKILL", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	up(t)
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^survivor\s+1/1\s+Running\s`), "get", "pods")
	if out := ok(t, "exec", "survivor", "--", "wget", "-qO-", "http://localhost:9876/info"); !strings.Contains(out, `"version": "0.5.0"`) {
		t.Errorf("exec after recovery: %q", out)
	}
	down(t, false)
	up(t)
	waitFor(t, time.Minute, regexp.MustCompile(`(?m)^survivor\s+1/1\s+Running\s`), "get", "pods")
	down(t, false)
}

func up(t *testing.T) {
	t.Helper()
	out := ok(t, c.upArgs()...)
	if !regexp.MustCompile(`^Tugboat is up: node `+c.node+` is Ready \(\d+\.\ds\)\.\n`).MatchString(out) || !strings.Contains(out, "kubeconfig: "+c.kubeconfig+" (context tugboat)") {
		t.Fatalf("tug up printed:\n%s", out)
	}
	r := tug(t, "", c.upArgs()...)
	if r.code == 0 || !strings.Contains(r.err, "a Tugboat cluster is already running here") {
		t.Errorf("second tug up: exit %d, stderr %q", r.code, r.err)
	}
}

// down runs tug down and checks that the host holds nothing of the cluster.
func down(t *testing.T, purge bool) {
	t.Helper()
	args := []string{"down", "--data-dir", c.dataDir}
	if purge {
		args = append(args, "--purge")
	}
	if out := ok(t, args...); !strings.HasPrefix(out, "Tugboat stopped; its containers, sandboxes, network namespaces and routes are removed.\n") {
		t.Errorf("tug down printed %q", out)
	}
	if _, err := os.Stat(c.dataDir); purge == (err == nil) {
		t.Errorf("after tug down (purge %t) the data dir: %v", purge, err)
	}
	if err := exec.Command("ip", "link", "show", "tug0").Run(); err == nil {
		t.Errorf("the pod bridge tug0 is still there after tug down")
	}
	routes, _ := exec.Command("ip", "route", "show", "type", "blackhole").CombinedOutput()
	for _, cidr := range []string{"10.244.0.0/16", "10.96.0.0/12"} {
		if strings.Contains(string(routes), cidr) {
			t.Errorf("blackhole route %s left after tug down", cidr)
		}
	}
	procs, _ := exec.Command("pgrep", "-af", c.dataDir).CombinedOutput()
	if s := strings.TrimSpace(string(procs)); s != "" {
		t.Errorf("processes of the cluster left after tug down:\n%s", s)
	}
	ns, _ := exec.Command("ip", "netns", "list").CombinedOutput()
	if strings.Contains(string(ns), "cni-") {
		t.Errorf("network namespaces left after tug down:\n%s", ns)
	}
	// The proxy's nftables table goes with the cluster.
	tables, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Errorf("nft list tables: %v: %s", err, tables)
	} else if strings.Contains(string(tables), "tug") {
		t.Errorf("nftables tables left after tug down:\n%s", tables)
	}
	if r := tug(t, "", "get", "pods"); r.code == 0 || !strings.HasPrefix(r.err, "The connection to the server "+c.apiAddr+" was refused") {
		t.Errorf("get after down: exit %d, stderr %q", r.code, r.err)
	}
}

// followLogs starts tug logs -f, makes first-pod log a request, and
// waits for the line to arrive through the open stream.
func followLogs(t *testing.T) {
	t.Helper()
	cmd := exec.Command(c.tug, "logs", "-f", "--tail=0", "first-pod")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "/health") {
		ok(t, "exec", "first-pod", "--", "wget", "-qO-", "http://localhost:9876/health")
		if time.Now().After(deadline) {
			t.Fatalf("logs -f did not show the request within 30s: %q", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rows returns the first column of a table's rows.
func rows(table string) []string {
	var out []string
	for i, l := range strings.Split(strings.TrimSpace(table), "\n") {
		if i > 0 && l != "" {
			out = append(out, strings.Fields(l)[0])
		}
	}
	return out
}
