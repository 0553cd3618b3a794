package describe

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/cli/golden"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"google.golang.org/protobuf/proto"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func load(t *testing.T, file string) []proto.Message {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data)
	if err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return objs
}

func TestMain(m *testing.M) {
	// Times print in the local zone; fix it for the golden files.
	time.Local = time.UTC
	os.Exit(m.Run())
}

func TestPod(t *testing.T) {
	objs := load(t, "second-pod.yaml")
	pod := objs[0].(*corev1.Pod)
	events := []*corev1.Event{objs[1].(*corev1.Event), objs[2].(*corev1.Event)}
	var b bytes.Buffer
	if err := Pod(&b, pod, events, now); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "pod", b.Bytes())
	// Events print oldest first, whatever order they come in.
	ev := b.Bytes()[bytes.Index(b.Bytes(), []byte("Events:")):]
	if i, j := bytes.Index(ev, []byte("Scheduled")), bytes.Index(ev, []byte("Started")); i < 0 || j < 0 || i > j {
		t.Errorf("Scheduled (at %d) should come before Started (at %d)", i, j)
	}
}

func TestNode(t *testing.T) {
	node := load(t, "node1.yaml")[0].(*corev1.Node)
	pod := load(t, "second-pod.yaml")[0].(*corev1.Pod)
	var b bytes.Buffer
	if err := Node(&b, node, []*corev1.Pod{pod}, nil, now); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "node", b.Bytes())
	// second-pod requests 500m of 2 cpus and 64Mi of 2048Mi.
	for _, want := range []string{"500m (25%)", "64Mi (3%)", "(1 in total)"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("node description lacks %q", want)
		}
	}
}

func TestGeneric(t *testing.T) {
	data, err := os.ReadFile("../printer/testdata/others.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var deploy *appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			deploy = d
		}
	}
	if deploy == nil {
		t.Fatal("no Deployment in others.yaml")
	}
	var b bytes.Buffer
	if err := Generic(&b, deploy, deploy.GetMetadata(), nil, now); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "deployment", b.Bytes())
}

func TestDeployment(t *testing.T) {
	objs := load(t, "deployment-09.yaml")
	d := objs[0].(*appsv1.Deployment)
	rss := []*appsv1.ReplicaSet{objs[1].(*appsv1.ReplicaSet), objs[2].(*appsv1.ReplicaSet)}
	var b bytes.Buffer
	if err := Deployment(&b, d, rss, []*corev1.Event{objs[3].(*corev1.Event)}, now); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "deployment-09", b.Bytes())
	for _, want := range []string{
		"Replicas:               2 desired | 2 updated | 3 total | 2 available | 1 unavailable\n",
		"RollingUpdateStrategy:  0% max unavailable, 1 max surge\n",
		"OldReplicaSets:  deployment-09-7f9c4d8b5 (1/1 replicas created)\n",
		"NewReplicaSet:   deployment-09-5d8b7c6f9 (2/2 replicas created)\n",
	} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("description lacks %q", want)
		}
	}
}

func TestService(t *testing.T) {
	data, err := os.ReadFile("../printer/testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	services := map[string]*corev1.Service{}
	endpoints := map[string]*corev1.Endpoints{}
	for _, o := range objs {
		switch x := o.(type) {
		case *corev1.Service:
			services[x.GetMetadata().GetName()] = x
		case *corev1.Endpoints:
			endpoints[x.GetMetadata().GetName()] = x
		}
	}
	events := load(t, "service-events.yaml")
	for _, tt := range []struct {
		name   string
		events []*corev1.Event
		want   []string
	}{
		{"service-for-pods", nil, []string{"Selector:          app=sise\n", "Port:              <unset>  80/TCP\n", "TargetPort:        9876/TCP\n",
			"Endpoints:         10.244.0.5:9876,10.244.0.6:9876\n", "Events:            <none>\n"}},
		{"kube-dns", []*corev1.Event{events[0].(*corev1.Event)}, []string{"Port:              dns  53/UDP\n", "NodePort:          dns-tcp  30054/TCP\n",
			"Endpoints:         10.244.0.1:5353,10.244.0.2:5353\n"}},
		{"headless", nil, []string{"IP:                None\n", "Endpoints:         10.244.0.5\n"}},
		{"balanced", nil, []string{"External IPs:      192.0.2.10\n", "TargetPort:        http/TCP\n", "Endpoints:         <none>\n"}},
		{"external", nil, []string{"External Name:     example.com\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Service(&b, services[tt.name], endpoints[tt.name], tt.events, now); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "service-"+tt.name, b.Bytes())
			for _, want := range tt.want {
				if !bytes.Contains(b.Bytes(), []byte(want)) {
					t.Errorf("description lacks %q", want)
				}
			}
		})
	}
}
