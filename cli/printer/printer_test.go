package printer

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/cli/golden"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// load decodes a testdata manifest and groups its objects by kind.
func load(t *testing.T, file string) map[string][]proto.Message {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data)
	if err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	out := map[string][]proto.Message{}
	for _, o := range objs {
		k, _ := scheme.ForMessage(o)
		out[k.Kind] = append(out[k.Kind], o)
	}
	return out
}

func kind(t *testing.T, name string) scheme.Kind {
	k, ok := scheme.Lookup(name)
	if !ok {
		t.Fatalf("no kind %s", name)
	}
	return k
}

func TestTables(t *testing.T) {
	objs := load(t, "objects.yaml")
	nodes := load(t, "nodes.yaml")
	others := load(t, "others.yaml")
	workloads := load(t, "workloads.yaml")
	services := load(t, "services.yaml")
	cases := []struct {
		name string
		kind string
		objs []proto.Message
		opts Options
	}{
		{"pods", "pods", objs["Pod"], Options{}},
		{"pods-wide", "pods", objs["Pod"], Options{Wide: true}},
		{"pods-show-labels", "pods", objs["Pod"], Options{ShowLabels: true}},
		{"pods-all-namespaces", "pods", objs["Pod"], Options{AllNamespaces: true}},
		{"pods-no-headers", "pods", objs["Pod"][:1], Options{NoHeaders: true}},
		{"pods-with-kind", "pods", objs["Pod"][:2], Options{WithKind: true, AllNamespaces: true}},
		{"deployments-with-kind", "deploy", others["Deployment"], Options{WithKind: true}},
		{"nodes", "nodes", nodes["Node"], Options{}},
		{"nodes-wide", "nodes", nodes["Node"], Options{Wide: true}},
		{"namespaces", "ns", others["Namespace"], Options{}},
		{"services-wide", "svc", others["Service"], Options{Wide: true}},
		{"services", "services", services["Service"], Options{}},
		{"services-more-wide", "svc", services["Service"], Options{Wide: true, AllNamespaces: true}},
		{"endpoints", "ep", services["Endpoints"], Options{AllNamespaces: true}},
		{"deployments", "deploy", others["Deployment"], Options{}},
		{"replicasets-wide", "rs", others["ReplicaSet"], Options{Wide: true}},
		{"jobs", "jobs", others["Job"], Options{}},
		{"jobs-more", "job", workloads["Job"], Options{}},
		{"jobs-wide", "job", workloads["Job"], Options{Wide: true}},
		{"cronjobs", "cronjob", workloads["CronJob"], Options{}},
		{"cronjobs-wide", "cj", workloads["CronJob"], Options{Wide: true}},
		{"replicasets", "rs", others["ReplicaSet"], Options{}},
		{"deployments-wide", "deploy", append(others["Deployment"], workloads["Deployment"]...), Options{Wide: true}},
		{"secrets", "secrets", others["Secret"], Options{}},
		{"configmaps", "cm", others["ConfigMap"], Options{}},
		{"events", "ev", others["Event"], Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.objs) == 0 {
				t.Fatalf("no %s fixtures", c.kind)
			}
			c.opts.Now = now
			var b bytes.Buffer
			if err := Table(&b, kind(t, c.kind), c.objs, c.opts); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "table-"+c.name, b.Bytes())
		})
	}
}

func TestPodStatus(t *testing.T) {
	want := map[string]string{
		"second-pod": "Running", "pod-label": "ContainerCreating", "crasher": "CrashLoopBackOff",
		"countdown-lc80g": "Completed", "going-away": "Terminating", "initializing": "Init:0/1",
	}
	pods := load(t, "objects.yaml")["Pod"]
	if len(pods) != len(want) {
		t.Fatalf("%d pods in objects.yaml, want %d", len(pods), len(want))
	}
	for _, p := range pods {
		name := metaOf(p).GetName()
		got := Row(kind(t, "pods"), p, Options{Now: now})[2]
		if got != want[name] {
			t.Errorf("%s: STATUS %q, want %q", name, got, want[name])
		}
	}
}

func TestDocuments(t *testing.T) {
	pods := load(t, "objects.yaml")["Pod"]
	var b bytes.Buffer
	if err := YAML(&b, pods[:1], true); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "pod.yaml", b.Bytes())
	b.Reset()
	if err := JSON(&b, pods[:2], false); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "pods-list.json", b.Bytes())
	deploy := load(t, "others.yaml")["Deployment"][0]
	if got := Name(kind(t, "deploy"), deploy); got != "deployment.apps/deployment-09" {
		t.Errorf("Name = %q, want deployment.apps/deployment-09", got)
	}
	if got := Name(kind(t, "po"), pods[0]); got != "pod/second-pod" {
		t.Errorf("Name = %q, want pod/second-pod", got)
	}
}
