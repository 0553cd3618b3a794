package command

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/cli/golden"
)

const seeds = "../../machinery/manifest/testdata/seed004/"

func TestApplyCreatesConfiguresAndLeavesUnchanged(t *testing.T) {
	ns := namespace(t)
	if got := ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml"); got != "pod/second-pod created\n" {
		t.Fatalf("first apply printed %q", got)
	}
	if got := ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml"); got != "pod/second-pod unchanged\n" {
		t.Fatalf("second apply printed %q", got)
	}
	// A label added by tug label survives a re-apply; a label the manifest
	// adds configures the pod.
	ok(t, "-n", ns, "label", "pod", "second-pod", "owner=ipeacocks")
	if got := ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml"); got != "pod/second-pod unchanged\n" {
		t.Fatalf("apply after label printed %q", got)
	}
	data, err := os.ReadFile(seeds + "second-pod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	labelled := strings.Replace(string(data), "  name: second-pod\n", "  name: second-pod\n  labels:\n    env: development\n", 1)
	r := tugIn(t, labelled, "-n", ns, "apply", "-f", "-")
	if r.code != 0 || r.out != "pod/second-pod configured\n" {
		t.Fatalf("apply with a new label: exit %d, %q %q", r.code, r.out, r.err)
	}
	if got := ok(t, "-n", ns, "get", "pods", "--show-labels", "--no-headers"); !strings.Contains(got, "env=development,owner=ipeacocks") {
		t.Errorf("labels after apply: %q", got)
	}
	// create of an existing object is an error from the server.
	r = tug(t, "-n", ns, "create", "-f", seeds+"second-pod.yaml")
	if r.code == 0 || r.err != "Error from server (AlreadyExists): pods \"second-pod\" already exists\n" {
		t.Errorf("create existing: exit %d, stderr %q", r.code, r.err)
	}
}

func TestApplyDirectoryAndBadInputAppliesNothing(t *testing.T) {
	ns := namespace(t)
	dir := t.TempDir()
	for _, f := range []string{"pod-label.yaml", "specific-pod-node.yaml"} {
		data, err := os.ReadFile(seeds + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: c\n    image: x\n    ports:\n    - containerPort: http\n"
	if err := os.WriteFile(filepath.Join(dir, "z-bad.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := tug(t, "-n", ns, "apply", "-f", dir)
	if r.code == 0 || !strings.Contains(r.err, "z-bad.yaml: document 1: Pod \"bad\": spec.containers[0].ports[0].containerPort: expected 32-bit integer") {
		t.Fatalf("bad directory: exit %d, stderr %q", r.code, r.err)
	}
	if got := tug(t, "-n", ns, "get", "pods", "-o", "name"); got.out != "" {
		t.Fatalf("pods were created from a directory with a bad manifest: %q", got.out)
	}
	if err := os.Remove(filepath.Join(dir, "z-bad.yaml")); err != nil {
		t.Fatal(err)
	}
	if got := ok(t, "-n", ns, "apply", "-f", dir); got != "pod/pod-label created\npod/specific-pod-node created\n" {
		t.Fatalf("apply directory printed %q", got)
	}
	// The manifest's namespace must match an explicit -n.
	other := strings.Replace(bad, "name: bad", "name: bad\n  namespace: elsewhere", 1)
	other = strings.Replace(other, "containerPort: http", "containerPort: 80", 1)
	r = tugIn(t, other, "-n", ns, "apply", "-f", "-")
	if r.code == 0 || !strings.Contains(r.err, `the namespace from the provided object "elsewhere" does not match the namespace "`+ns+`"`) {
		t.Errorf("namespace mismatch: exit %d, %q", r.code, r.err)
	}
}

func TestGetSelectorsAndOutputs(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"pod-label.yaml")
	ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml")
	ok(t, "-n", ns, "run", "first-pod", "--image=tugboat.local/sise:0.5.0", "--port=9876", "--env=A=1", "--labels=env=production,tier=web")
	cases := []struct {
		selector string
		want     []string
	}{
		{"env=development", []string{"pod-label"}},
		{"env==development", []string{"pod-label"}},
		{"env!=development", []string{"first-pod", "second-pod"}},
		{"env in (production, development)", []string{"first-pod", "pod-label"}},
		{"env notin (production)", []string{"pod-label", "second-pod"}},
		{"tier", []string{"first-pod"}},
		{"!env", []string{"second-pod"}},
		{"env,tier=web", []string{"first-pod"}},
	}
	for _, c := range cases {
		got := rows(ok(t, "-n", ns, "get", "pods", "-l", c.selector))
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("-l %q: %v, want %v", c.selector, got, c.want)
		}
	}
	if got := ok(t, "-n", ns, "get", "po", "-o", "name", "--selector", "env=production"); got != "pod/first-pod\n" {
		t.Errorf("-o name: %q", got)
	}
	y := ok(t, "-n", ns, "get", "pod/first-pod", "-o", "yaml")
	for _, want := range []string{"kind: Pod", "name: first-pod", "- containerPort: 9876", "value: \"1\"", "run: first-pod"} {
		if want == "run: first-pod" {
			if strings.Contains(y, want) {
				t.Errorf("--labels replaces the default run label; yaml has %q", want)
			}
			continue
		}
		if !strings.Contains(y, want) {
			t.Errorf("-o yaml lacks %q:\n%s", want, y)
		}
	}
	if j := ok(t, "-n", ns, "get", "pods", "-o", "json"); !strings.Contains(j, `"kind": "List"`) || strings.Count(j, `"kind": "Pod"`) != 3 {
		t.Errorf("-o json of a list:\n%s", j)
	}
	if got := ok(t, "-n", ns, "get", "all"); !regexp.MustCompile(`^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\npod/first-pod\s+0/1\s+Pending\s`).MatchString(got) {
		t.Errorf("get all:\n%s", got)
	}
	all := ok(t, "get", "pods", "-A")
	if !strings.HasPrefix(all, "NAMESPACE") || !strings.Contains(all, ns) {
		t.Errorf("-A:\n%s", all)
	}
	// Several names: those found are printed, the missing one is an error.
	r := tug(t, "-n", ns, "get", "pods", "pod-label", "nope")
	if r.code != 1 || rows(r.out)[0] != "pod-label" || r.err != "Error from server (NotFound): pods \"nope\" not found\n" {
		t.Errorf("get found and missing: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = tug(t, "-n", ns, "get", "pods", "-l", "env in (a")
	if r.code != 1 || !strings.Contains(r.err, "invalid label selector") {
		t.Errorf("bad selector: exit %d %q", r.code, r.err)
	}
	r = tug(t, "-n", ns+"-empty", "get", "pods")
	if r.code != 0 || r.err != "No resources found in "+ns+"-empty namespace.\n" {
		t.Errorf("empty namespace: exit %d %q", r.code, r.err)
	}
	if got := ok(t, "get", "ns", ns); rows(got)[0] != ns || !strings.Contains(got, "Active") {
		t.Errorf("get ns: %q", got)
	}
}

func TestLabel(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"pod-label.yaml")
	if got := ok(t, "-n", ns, "label", "pods", "pod-label", "owner=ipeacocks"); got != "pod/pod-label labeled\n" {
		t.Errorf("label: %q", got)
	}
	r := tug(t, "-n", ns, "label", "pods", "pod-label", "owner=someone")
	if r.code == 0 || r.err != "error: 'owner' already has a value (ipeacocks), and --overwrite is false\n" {
		t.Errorf("label without --overwrite: exit %d %q", r.code, r.err)
	}
	ok(t, "-n", ns, "label", "pod/pod-label", "owner=someone", "--overwrite")
	ok(t, "-n", ns, "label", "pods", "pod-label", "env-")
	got := ok(t, "-n", ns, "get", "pods", "--show-labels", "--no-headers")
	if !strings.HasSuffix(strings.TrimSpace(got), " owner=someone") {
		t.Errorf("labels after overwrite and removal: %q", got)
	}
	r = tug(t, "-n", ns, "label", "pods", "pod-label", "bad key=x")
	if r.code == 0 || !strings.Contains(r.err, `invalid label key "bad key"`) {
		t.Errorf("bad label key: exit %d %q", r.code, r.err)
	}
}

func TestDelete(t *testing.T) {
	ns := namespace(t)
	for _, f := range []string{"pod-label.yaml", "second-pod.yaml", "specific-pod-node.yaml", "pod-env.yaml"} {
		ok(t, "-n", ns, "apply", "-f", seeds+f)
	}
	if got := ok(t, "-n", ns, "delete", "pod", "second-pod"); got != "pod \"second-pod\" deleted\n" {
		t.Errorf("delete by name: %q", got)
	}
	if got := ok(t, "-n", ns, "delete", "-f", seeds+"specific-pod-node.yaml"); got != "pod \"specific-pod-node\" deleted\n" {
		t.Errorf("delete -f: %q", got)
	}
	if got := ok(t, "-n", ns, "delete", "pods", "-l", "env=development"); got != "pod \"pod-label\" deleted\n" {
		t.Errorf("delete -l: %q", got)
	}
	if got := ok(t, "-n", ns, "delete", "pods", "--all"); got != "pod \"pod-env\" deleted\n" {
		t.Errorf("delete --all: %q", got)
	}
	r := tug(t, "-n", ns, "delete", "pod", "second-pod")
	if r.code != 1 || r.err != "Error from server (NotFound): pods \"second-pod\" not found\n" {
		t.Errorf("delete missing: exit %d %q", r.code, r.err)
	}
	r = tug(t, "-n", ns, "delete", "pods")
	if r.code != 1 || !strings.Contains(r.err, "no name was specified") {
		t.Errorf("delete without names: exit %d %q", r.code, r.err)
	}
}

func TestWatch(t *testing.T) {
	ns := namespace(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"--kubeconfig", kubeconfig, "-n", ns, "get", "pods", "-w"}, strings.NewReader(""), &out, &out)
	}()
	ok(t, "-n", ns, "apply", "-f", seeds+"pod-label.yaml")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "pod-label") {
		if time.Now().After(deadline) {
			t.Fatalf("no row for pod-label within 30s; output %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("watch ended with exit %d: %s", code, out.String())
	}
	if !strings.HasPrefix(out.String(), "NAME") || !strings.Contains(out.String(), "Pending") {
		t.Errorf("watch output %q", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDescribeAndVersion(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"second-pod.yaml")
	got := ok(t, "-n", ns, "describe", "pod", "second-pod")
	for _, want := range []string{"Name:             second-pod", "Namespace:        " + ns, "Status:           Pending", "  sise:", "      cpu:     500m", "\nEvents:"} {
		if !strings.Contains(got, want) {
			t.Errorf("describe pod lacks %q:\n%s", want, got)
		}
	}
	if got := ok(t, "describe", "ns", ns); !strings.Contains(got, "Name:               "+ns) {
		t.Errorf("describe ns:\n%s", got)
	}
	if got := ok(t, "version"); got != "Client Version: "+Version+"\nServer Version: v1.34.0-tugboat\n" {
		t.Errorf("version: %q", got)
	}
	if got := ok(t, "cluster-info"); !strings.HasPrefix(got, "Tugboat control plane is running at https://127.0.0.1:") {
		t.Errorf("cluster-info: %q", got)
	}
	res := ok(t, "api-resources")
	for _, re := range []string{`(?m)^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$`, `(?m)^pods\s+po\s+v1\s+true\s+Pod$`, `(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$`, `(?m)^nodes\s+no\s+v1\s+false\s+Node$`} {
		if !regexp.MustCompile(re).MatchString(res) {
			t.Errorf("api-resources lacks %s:\n%s", re, res)
		}
	}
	if got := ok(t, "completion", "bash"); !strings.Contains(got, "__start_tug") {
		t.Errorf("completion bash does not define __start_tug")
	}
}

// TestErrors checks the messages a user sees when something is wrong
// before or at the server (golden files hold them) and the exit codes.
func TestErrors(t *testing.T) {
	ns := namespace(t)
	dir := t.TempDir()
	unreachable := filepath.Join(dir, "unreachable")
	if err := os.WriteFile(unreachable, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: http://127.0.0.1:1}\ncontexts:\n- name: c\n  context: {cluster: c}\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("clusters: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"not-found", []string{"--kubeconfig", kubeconfig, "-n", ns, "get", "pod", "x"}, nil},
		{"unknown-type", []string{"--kubeconfig", kubeconfig, "get", "flurbs"}, nil},
		{"no-kubeconfig", []string{"get", "pods"}, map[string]string{"KUBECONFIG": filepath.Join(dir, "none")}},
		{"unreadable-kubeconfig", []string{"--kubeconfig", broken, "get", "pods"}, nil},
		{"unreachable", []string{"--kubeconfig", unreachable, "get", "pods"}, nil},
		{"bad-output", []string{"--kubeconfig", kubeconfig, "get", "pods", "-o", "table"}, nil},
		{"exec-no-command", []string{"--kubeconfig", kubeconfig, "exec", "second-pod"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			code := Main(context.Background(), c.args, strings.NewReader(""), &out, &errOut)
			if code == 0 {
				t.Fatalf("exit 0; stdout %q", out.String())
			}
			msg := strings.ReplaceAll(errOut.String(), dir, "DIR")
			golden.Check(t, "error-"+c.name, []byte(msg))
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Errorf("want one line, got %q", msg)
			}
		})
	}
}

func TestCreateKinds(t *testing.T) {
	ns := namespace(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "apikey.txt")
	if err := os.WriteFile(key, []byte("A19fh68B001j"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := ok(t, "-n", ns, "create", "secret", "generic", "apikey", "--from-file="+key); got != "secret/apikey created\n" {
		t.Errorf("create secret printed %q", got)
	}
	got := ok(t, "-n", ns, "get", "secrets")
	if !regexp.MustCompile(`(?m)^apikey\s+Opaque\s+1\s+\S+$`).MatchString(got) {
		t.Errorf("get secrets:\n%s", got)
	}
	got = ok(t, "-n", ns, "describe", "secret", "apikey")
	if !regexp.MustCompile(`(?m)^Data\n====\napikey\.txt:\s+12 bytes$`).MatchString(got) || strings.Contains(got, "A19fh68B001j") {
		t.Errorf("describe secret:\n%s", got)
	}
	if got := ok(t, "-n", ns, "create", "configmap", "settings", "--from-literal=mode=fast", "--from-file=cfg="+key); got != "configmap/settings created\n" {
		t.Errorf("create configmap printed %q", got)
	}
	if y := ok(t, "-n", ns, "get", "cm", "settings", "-o", "yaml"); !strings.Contains(y, "mode: fast") || !strings.Contains(y, "cfg: A19fh68B001j") {
		t.Errorf("configmap:\n%s", y)
	}
	r := tug(t, "-n", ns, "create", "configmap", "dup", "--from-literal=a=1", "--from-literal=a=2")
	if r.code == 0 || r.err != "error: cannot add key \"a\", another key by that name already exists\n" {
		t.Errorf("duplicate key: exit %d %q", r.code, r.err)
	}
	name := ns + "-extra"
	if got := ok(t, "create", "namespace", name); got != "namespace/"+name+" created\n" {
		t.Errorf("create namespace printed %q", got)
	}
	if got := ok(t, "delete", "namespace", name, "--wait=false"); got != "namespace \""+name+"\" deleted\n" {
		t.Errorf("delete namespace printed %q", got)
	}
}

func TestDescribeNodeWithEvents(t *testing.T) {
	manifests := `apiVersion: v1
kind: Node
metadata:
  name: describe-node
  labels: {shouldrun: here}
status:
  capacity: {cpu: "2", memory: 2Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 2Gi, pods: "110"}
---
apiVersion: v1
kind: Event
metadata: {name: describe-node.1, namespace: default}
involvedObject: {kind: Node, name: describe-node, uid: describe-node}
type: Normal
reason: NodeReady
message: Node describe-node status is now NodeReady
source: {component: kubelet}
count: 1
`
	r := tugIn(t, manifests, "create", "-f", "-")
	if r.code != 0 || r.out != "node/describe-node created\nevent/describe-node.1 created\n" {
		t.Fatalf("create: exit %d %q %q", r.code, r.out, r.err)
	}
	got := ok(t, "describe", "node", "describe-node")
	for _, re := range []string{`(?m)^Labels:\s+shouldrun=here$`, `(?m)^Non-terminated Pods:\s+\(0 in total\)$`, `(?m)^  Normal\s+NodeReady\s+\S+\s+kubelet\s+Node describe-node status is now NodeReady$`} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("describe node lacks %s:\n%s", re, got)
		}
	}
	ok(t, "delete", "node", "describe-node")
}

func TestScale(t *testing.T) {
	ns := namespace(t)
	ok(t, "-n", ns, "apply", "-f", seeds+"replicaset-x.yaml")
	if got := ok(t, "-n", ns, "scale", "--replicas=1", "rs", "replicaset-x"); got != "replicaset.apps/replicaset-x scaled\n" {
		t.Errorf("scale printed %q", got)
	}
	if got := ok(t, "-n", ns, "get", "rs"); !regexp.MustCompile(`(?m)^replicaset-x\s+1\s+0\s+0\s`).MatchString(got) {
		t.Errorf("get rs after scale:\n%s", got)
	}
	r := tug(t, "-n", ns, "scale", "rs/replicaset-x", "--replicas=5", "--current-replicas=3")
	if r.code == 0 || r.err != "error: Expected replicas to be 3, was 1\n" {
		t.Errorf("scale with a wrong --current-replicas: exit %d %q", r.code, r.err)
	}
	ok(t, "-n", ns, "apply", "-f", seeds+"pod-label.yaml")
	r = tug(t, "-n", ns, "scale", "pod", "pod-label", "--replicas=2")
	if r.code == 0 || r.err != "error: pod \"pod-label\" cannot be scaled: it has no spec.replicas\n" {
		t.Errorf("scale a pod: exit %d %q", r.code, r.err)
	}
}
