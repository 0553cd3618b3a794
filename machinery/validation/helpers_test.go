package validation

import (
	"fmt"
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// fe is an expected error: its field path and type.
type fe struct{ field, typ string }

func (e fe) String() string { return e.field + " " + e.typ }

// assertErrors checks that got holds exactly the errors want, in any order.
func assertErrors(t *testing.T, got List, want ...fe) {
	t.Helper()
	g := make([]string, len(got))
	for i, e := range got {
		g[i] = fe{e.Field, e.Type}.String()
	}
	w := make([]string, len(want))
	for i, e := range want {
		w[i] = e.String()
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("errors\n got: %q\nwant: %q\nfull: %v", g, w, got)
	}
}

func objectMeta(name string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: name, Namespace: "default"}
}

// seedPod is the pod of the seed walkthrough: two containers, one with limits.
func seedPod() *corev1.Pod {
	return &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: objectMeta("second-pod"),
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{
			{
				Name: "sise", Image: "mhausenblas/simpleservice:0.5.0",
				Ports:     []*corev1.ContainerPort{{ContainerPort: 9876}},
				Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi", "cpu": "500m"}},
			},
			{Name: "shell", Image: "centos:7", Command: []string{"bin/bash", "-c", "sleep 10000"}},
		}},
	}
}

func num(n float64) *structpb.Value { return structpb.NewNumberValue(n) }
func str(s string) *structpb.Value  { return structpb.NewStringValue(s) }

// webSpec is a small valid pod spec: one container serving port 80.
func webSpec() *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []*corev1.Container{{
		Name: "web", Image: "nginx:1.25",
		Ports: []*corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
	}}}
}

func podTemplateSpec(labels map[string]string, restartPolicy string) *corev1.PodTemplateSpec {
	s := webSpec()
	s.RestartPolicy = restartPolicy
	return &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: s}
}

func TestUnknownKind(t *testing.T) {
	assertErrors(t, Validate(&corev1.PodList{}), fe{"kind", NotSupported})
	assertErrors(t, ValidateUpdate(seedPod(), &corev1.Service{}), fe{"kind", Invalid})
}

func TestErrorMessage(t *testing.T) {
	errs := Validate(&corev1.Pod{Metadata: objectMeta("p"), Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c"}}}})
	want := "spec.containers[0].image: Required value"
	if got := fmt.Sprint(errs); got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}
