package rollout

import (
	"strconv"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// WithoutHash returns a copy of t without the pod-template-hash label:
// the template a ReplicaSet was made from.
func WithoutHash(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t = proto.Clone(t).(*corev1.PodTemplateSpec)
	if t.Metadata != nil {
		delete(t.Metadata.Labels, HashLabel)
		if len(t.Metadata.Labels) == 0 {
			t.Metadata.Labels = nil
		}
	}
	return t
}

// SameTemplate reports whether two templates are equal but for the
// pod-template-hash label.
func SameTemplate(a, b *corev1.PodTemplateSpec) bool {
	return proto.Equal(WithoutHash(a), WithoutHash(b))
}

// ParseRevision reads a ReplicaSet's (or Deployment's) revision
// annotation; ok is false when it has none or it is not a number.
func ParseRevision(m *metav1.ObjectMeta) (n int64, ok bool) {
	n, err := strconv.ParseInt(m.GetAnnotations()[RevisionAnnotation], 10, 64)
	return n, err == nil
}
