package controller

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// The pod shares nothing with the template it was made from (an
// informer's cached object): changing the pod leaves the template as it
// was.
func TestPodFromTemplateCopies(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a"}, Annotations: map[string]string{"note": "x"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "i"}}},
	}
	owner := &metav1.ObjectMeta{Namespace: "ns", Name: "rs", Uid: "u1"}
	p := PodFromTemplate(tmpl, owner, "apps/v1", "ReplicaSet")
	if p.GetMetadata().GetGenerateName() != "rs-" || p.GetMetadata().GetNamespace() != "ns" || p.GetMetadata().GetLabels()["app"] != "a" ||
		p.GetSpec().GetContainers()[0].GetImage() != "i" {
		t.Fatalf("pod = %v", p)
	}
	if r := ControllerRef(p.GetMetadata()); r == nil || r.GetUid() != "u1" || r.GetKind() != "ReplicaSet" || !r.GetBlockOwnerDeletion() {
		t.Fatalf("controller reference = %v", r)
	}
	p.Metadata.Labels["app"] = "changed"
	p.Metadata.Annotations["note"] = "changed"
	p.Spec.Containers[0].Image = "changed"
	p.Spec.NodeName = "n"
	if tmpl.Metadata.Labels["app"] != "a" || tmpl.Metadata.Annotations["note"] != "x" || tmpl.Spec.Containers[0].Image != "i" || tmpl.Spec.NodeName != "" {
		t.Fatalf("changing the pod changed its template: %v", tmpl)
	}
}
