package manifest

import (
	"strings"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: second-pod
spec:
  containers:
  - name: sise
    image: mhausenblas/simpleservice:0.5.0
`

// names returns "Kind/name" of each object, for comparing results.
func names(t *testing.T, objs []proto.Message) string {
	t.Helper()
	var out []string
	for _, o := range objs {
		k, _ := scheme.ForMessage(o)
		out = append(out, k.Kind+"/"+nameOf(o))
	}
	return strings.Join(out, ",")
}

func nameOf(m proto.Message) string {
	r := m.ProtoReflect()
	md := r.Get(r.Descriptor().Fields().ByName("metadata")).Message()
	return md.Get(md.Descriptor().Fields().ByName("name")).String()
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"single YAML", podYAML, "Pod/second-pod"},
		{"multi-document with empty and comment-only documents", "---\n" + podYAML + "---\n---\n# nothing here\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: test\n", "Pod/second-pod,Namespace/test"},
		{"JSON", `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test"}}`, "Namespace/test"},
		{"JSON stream", `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "countdown"}}`, "Namespace/a,Job/countdown"},
		{"v1 List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n", "Namespace/a,Deployment/d"},
		{"typed list items inherit their kind", `{"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "7"}, "items": [{"metadata": {"name": "p1"}}, {"metadata": {"name": "p2"}}]}`, "Pod/p1,Pod/p2"},
		{"empty List", "apiVersion: v1\nkind: List\nitems: []\n", ""},
		{"empty input", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := names(t, objs); got != tt.want {
				t.Fatalf("decoded %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"unknown field", strings.Replace(podYAML, "image:", "imagee:", 1),
			[]string{"document 1", `Pod "second-pod"`, `unknown field "spec.containers[0].imagee"`}},
		{"unknown field in the second document", podYAML + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: test\n  lables: {a: b}\n",
			[]string{"document 2", `Namespace "test"`, `unknown field "metadata.lables"`}},
		{"snake_case name is not a field", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  node_name: x\n",
			[]string{`unknown field "spec.node_name"`}},
		{"unknown kind", podYAML + "---\napiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n",
			[]string{"document 2", `unknown kind "Widget" in apiVersion "v1"`}},
		{"kind in another apiVersion", "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n",
			[]string{`unknown kind "Deployment" in apiVersion "extensions/v1beta1"`, "served as apps/v1"}},
		{"missing kind", "apiVersion: v1\nmetadata:\n  name: x\n", []string{"document 1", "no apiVersion or kind"}},
		{"malformed YAML", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n", []string{"document 1", "malformed YAML"}},
		{"bad indentation", "apiVersion: v1\nkind: Pod\n metadata: x\n", []string{"document 1", "malformed YAML"}},
		{"malformed JSON", `{"apiVersion": "v1", "kind": "Pod",}`, []string{"document 1", "malformed JSON"}},
		{"scalar document", "just some text\n", []string{"document 1", "must be an object", `string "just some text"`}},
		{"string for an integer", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: three\n",
			[]string{`Deployment "d"`, `spec.replicas: expected 32-bit integer, got string "three"`}},
		{"fraction for an integer", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1.5\n",
			[]string{`spec.replicas: expected 32-bit integer, got number 1.5`}},
		{"object for a list", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    name: x\n",
			[]string{"spec.containers: expected array, got object"}},
		{"number for a string", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: x\n    env:\n    - name: V\n      value: 1.0\n",
			[]string{"spec.containers[0].env[0].value: expected string, got number 1"}},
		{"boolean for an int-or-string", "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    targetPort: true\n",
			[]string{"spec.ports[0].targetPort: expected integer or string, got boolean true"}},
		{"label value not a string", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    canary: true\n",
			[]string{"metadata.labels[canary]: expected string, got boolean true"}},
		{"bad base64 in secret data", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  apikey: not base64!\n",
			[]string{`Secret "s"`, "data[apikey]: invalid base64 data"}},
		{"bad timestamp", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  creationTimestamp: yesterday\n",
			[]string{`metadata.creationTimestamp: invalid time "yesterday"`}},
		{"bad list item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Namespace\n  spec: {bogus: 1}\n",
			[]string{"document 1", "List item 1", `unknown field "spec.bogus"`}},
		{"list items not a list", "apiVersion: v1\nkind: List\nitems: {a: 1}\n", []string{"items: expected array, got object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestIntOrStringAndBytes(t *testing.T) {
	in := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 1
  template:
    spec:
      containers:
      - name: web
        image: web:1
        livenessProbe:
          httpGet:
            path: /health
            port: http
        readinessProbe:
          tcpSocket:
            port: 9876
---
apiVersion: v1
kind: Secret
metadata:
  name: apikey
type: Opaque
data:
  apikey.txt: QTE5Zmg2OEIwMDFq
`
	objs, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	d := objs[0].(*appsv1.Deployment)
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	c := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"maxSurge string", ru.GetMaxSurge().GetStringValue(), "25%"},
		{"maxUnavailable number", ru.GetMaxUnavailable().GetNumberValue(), 1.0},
		{"named probe port", c.GetLivenessProbe().GetHttpGet().GetPort().GetStringValue(), "http"},
		{"numeric probe port", c.GetReadinessProbe().GetTcpSocket().GetPort().GetNumberValue(), 9876.0},
		{"secret bytes", string(objs[1].(*corev1.Secret).GetData()["apikey.txt"]), "A19fh68B001j"},
	}
	for _, tt := range checks {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	t.Run("secret encodes back to base64", func(t *testing.T) {
		out, err := EncodeYAML(objs[1])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "apikey.txt: QTE5Zmg2OEIwMDFq") {
			t.Fatalf("YAML lost the base64 data:\n%s", out)
		}
	})
}

func TestDecodeInto(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		into    proto.Message
		wantErr string
	}{
		{name: "matching kind", in: podYAML, into: &corev1.Pod{}},
		{name: "no type meta", in: "metadata:\n  name: second-pod\n", into: &corev1.Pod{}},
		{name: "typed list", in: `{"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "second-pod"}}]}`, into: &corev1.PodList{}},
		{name: "other kind", in: podYAML, into: &appsv1.Deployment{}, wantErr: `manifest is v1 "Pod", want apps/v1 "Deployment"`},
		{name: "two objects", in: podYAML + "---\n" + podYAML, into: &corev1.Pod{}, wantErr: "want exactly one object, found 2"},
		{name: "nothing", in: "# empty\n", into: &corev1.Pod{}, wantErr: "found 0"},
		{name: "unknown field", in: podYAML + "  restartPolicyy: Never\n", into: &corev1.Pod{}, wantErr: `unknown field "spec.restartPolicyy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeInto([]byte(tt.in), tt.into)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l, ok := tt.into.(*corev1.PodList); ok {
				tt.into = l.GetItems()[0]
			}
			if got := nameOf(tt.into); got != "second-pod" {
				t.Fatalf("name = %q", got)
			}
		})
	}
}
