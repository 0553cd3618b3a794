package controller

import (
	"maps"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// PodFromTemplate is a new pod of template t for owner (its controller
// reference of apiVersion and kind), named generateName <owner>-. Its
// labels, annotations and spec are copies: t comes from an informer's
// cache, shared with every other reader, and the pod goes to creates that
// run in parallel.
func PodFromTemplate(t *corev1.PodTemplateSpec, owner *metav1.ObjectMeta, apiVersion, kind string) *corev1.Pod {
	p := &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{
			GenerateName:    owner.GetName() + "-",
			Namespace:       owner.GetNamespace(),
			Labels:          maps.Clone(t.GetMetadata().GetLabels()),
			Annotations:     maps.Clone(t.GetMetadata().GetAnnotations()),
			OwnerReferences: []*metav1.OwnerReference{NewControllerRef(owner, apiVersion, kind)},
		},
	}
	if s := t.GetSpec(); s != nil {
		p.Spec = proto.Clone(s).(*corev1.PodSpec)
	}
	return p
}
