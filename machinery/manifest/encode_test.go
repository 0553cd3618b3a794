package manifest

import (
	"strings"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestEncode(t *testing.T) {
	replicas := int32(0)
	tests := []struct {
		name     string
		in       proto.Message
		wantJSON []string // substrings of EncodeJSON
		wantYAML string   // exact EncodeYAML, when set
	}{
		{
			name:     "fills apiVersion and kind",
			in:       &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "test"}},
			wantJSON: []string{`"apiVersion": "v1"`, `"kind": "Namespace"`},
			wantYAML: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: test\n",
		},
		{
			name:     "group kind",
			in:       &batchv1.Job{Metadata: &metav1.ObjectMeta{Name: "countdown"}},
			wantJSON: []string{`"apiVersion": "batch/v1"`, `"kind": "Job"`},
		},
		{
			name:     "list kind",
			in:       &appsv1.DeploymentList{Items: []*appsv1.Deployment{{Metadata: &metav1.ObjectMeta{Name: "d"}}}},
			wantJSON: []string{`"apiVersion": "apps/v1"`, `"kind": "DeploymentList"`, `"name": "d"`},
		},
		{
			name:     "keeps what is set",
			in:       &corev1.Pod{ApiVersion: "v1", Kind: "Pod"},
			wantJSON: []string{`"kind": "Pod"`},
		},
		{
			name: "camelCase names, explicit JSON names, optional zero, no unpopulated fields",
			in: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Replicas: &replicas, Template: &corev1.PodTemplateSpec{
				Spec: &corev1.PodSpec{NodeName: "k8s-s1", Containers: []*corev1.Container{{
					Name:  "sise",
					Ports: []*corev1.ContainerPort{{ContainerPort: 9876, HostIp: "127.0.0.1"}},
				}}},
			}}},
			wantYAML: `apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 0
  template:
    spec:
      containers:
      - name: sise
        ports:
        - containerPort: 9876
          hostIP: 127.0.0.1
      nodeName: k8s-s1
`,
		},
		{
			name: "int-or-string",
			in: &corev1.Service{Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{
				{Port: 80, TargetPort: structpb.NewNumberValue(9876)},
				{Port: 81, TargetPort: structpb.NewStringValue("http")},
			}}},
			wantJSON: []string{`"targetPort": 9876`, `"targetPort": "http"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := proto.Clone(tt.in)
			j, err := EncodeJSON(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantJSON {
				if !strings.Contains(string(j), w) {
					t.Errorf("JSON lacks %s:\n%s", w, j)
				}
			}
			y, err := EncodeYAML(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantYAML != "" && string(y) != tt.wantYAML {
				t.Errorf("YAML:\n%s\nwant:\n%s", y, tt.wantYAML)
			}
			if !proto.Equal(before, tt.in) {
				t.Error("encoding modified its argument")
			}
			// What is encoded decodes back to the same object.
			back, err := Decode(y)
			if err != nil {
				t.Fatalf("decode own YAML: %v", err)
			}
			want := withTypeMeta(tt.in)
			if l, ok := want.(*appsv1.DeploymentList); ok {
				want = l.GetItems()[0]
				want.(*appsv1.Deployment).ApiVersion, want.(*appsv1.Deployment).Kind = "apps/v1", "Deployment"
			}
			if len(back) != 1 || !proto.Equal(back[0], want) {
				t.Errorf("round trip: got %v, want %v", back, want)
			}
		})
	}
}
