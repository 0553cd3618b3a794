package validation

import (
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestObjectMeta(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*metav1.ObjectMeta)
		want   []fe
	}{
		{"valid", func(m *metav1.ObjectMeta) {
			m.Labels = map[string]string{"app": "web", "example.com/tier": "", "x": "a.b_c-d"}
			m.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
			m.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", Uid: "u1", Controller: proto.Bool(true)}}
			m.Finalizers = []string{"example.com/cleanup", "foregroundDeletion"}
		}, nil},
		{"generateName only", func(m *metav1.ObjectMeta) { m.Name, m.GenerateName = "", "web-" }, nil},
		{"bad generateName", func(m *metav1.ObjectMeta) { m.Name, m.GenerateName = "", "Web-" }, []fe{{"metadata.generateName", Invalid}}},
		{"missing name", func(m *metav1.ObjectMeta) { m.Name = "" }, []fe{{"metadata.name", Required}}},
		{"bad name", func(m *metav1.ObjectMeta) { m.Name = "Second_Pod" }, []fe{{"metadata.name", Invalid}}},
		{"subdomain name", func(m *metav1.ObjectMeta) { m.Name = "web.v1" }, nil},
		{"missing namespace", func(m *metav1.ObjectMeta) { m.Namespace = "" }, []fe{{"metadata.namespace", Required}}},
		{"bad namespace", func(m *metav1.ObjectMeta) { m.Namespace = "my.ns" }, []fe{{"metadata.namespace", Invalid}}},
		{"bad label key", func(m *metav1.ObjectMeta) { m.Labels = map[string]string{"-app": "web"} }, []fe{{"metadata.labels", Invalid}}},
		{"bad label value", func(m *metav1.ObjectMeta) { m.Labels = map[string]string{"app": "web site"} }, []fe{{"metadata.labels", Invalid}}},
		{"long label value", func(m *metav1.ObjectMeta) { m.Labels = map[string]string{"app": strings.Repeat("a", 64)} }, []fe{{"metadata.labels", Invalid}}},
		{"bad annotation key", func(m *metav1.ObjectMeta) { m.Annotations = map[string]string{"a b": ""} }, []fe{{"metadata.annotations", Invalid}}},
		{"annotations too big", func(m *metav1.ObjectMeta) {
			m.Annotations = map[string]string{"a": strings.Repeat("x", 200<<10), "b": strings.Repeat("x", 60<<10)}
		}, []fe{{"metadata.annotations", TooLong}}},
		{"incomplete owner reference", func(m *metav1.ObjectMeta) {
			m.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "v1", Kind: "Pod", Name: "p", Uid: "u"}, {Kind: "Pod"}}
		}, []fe{{"metadata.ownerReferences[1].apiVersion", Required}, {"metadata.ownerReferences[1].name", Required}, {"metadata.ownerReferences[1].uid", Required}}},
		{"two controllers", func(m *metav1.ObjectMeta) {
			ref := &metav1.OwnerReference{ApiVersion: "v1", Kind: "Pod", Name: "p", Uid: "u", Controller: proto.Bool(true)}
			m.OwnerReferences = []*metav1.OwnerReference{ref, ref}
		}, []fe{{"metadata.ownerReferences", Invalid}}},
		{"bad finalizers", func(m *metav1.ObjectMeta) { m.Finalizers = []string{"cleanup", "a/b", "a/b"} }, []fe{{"metadata.finalizers[0]", Invalid}, {"metadata.finalizers[2]", Duplicate}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := seedPod()
			tt.mutate(p.Metadata)
			assertErrors(t, Validate(p), tt.want...)
		})
	}
	t.Run("no metadata", func(t *testing.T) {
		p := seedPod()
		p.Metadata = nil
		assertErrors(t, Validate(p), fe{"metadata", Required})
	})
	t.Run("cluster-scoped with namespace", func(t *testing.T) {
		assertErrors(t, Validate(&corev1.Node{Metadata: objectMeta("node-1")}), fe{"metadata.namespace", Forbidden})
	})
}
