package controller

import (
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// ControllerRef returns the owner reference of m marked controller, or nil.
func ControllerRef(m *metav1.ObjectMeta) *metav1.OwnerReference {
	for _, r := range m.GetOwnerReferences() {
		if r.GetController() {
			return r
		}
	}
	return nil
}

// NewControllerRef is the reference a controller puts on what it creates:
// controller, and blocking its owner's foreground deletion.
func NewControllerRef(owner *metav1.ObjectMeta, apiVersion, kind string) *metav1.OwnerReference {
	return &metav1.OwnerReference{
		ApiVersion: apiVersion, Kind: kind, Name: owner.GetName(), Uid: owner.GetUid(),
		Controller: proto.Bool(true), BlockOwnerDeletion: proto.Bool(true),
	}
}

// WithoutOwner returns m's owner references without the one of uid.
func WithoutOwner(m *metav1.ObjectMeta, uid string) []*metav1.OwnerReference {
	var out []*metav1.OwnerReference
	for _, r := range m.GetOwnerReferences() {
		if r.GetUid() != uid {
			out = append(out, r)
		}
	}
	return out
}

// Key is the queue key of an object: "namespace/name" or "name".
func Key(m *metav1.ObjectMeta) string {
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}
