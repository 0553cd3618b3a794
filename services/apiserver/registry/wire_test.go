package registry

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestWireDecodesToTheStoredObject(t *testing.T) {
	pod := &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "u-1", Labels: map[string]string{"app": "web"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "tugboat.local/sise:0.5.0"}}},
		Status:   &corev1.PodStatus{Phase: "Pending"},
	}
	data, err := proto.Marshal(pod) // stored without a resourceVersion
	if err != nil {
		t.Fatal(err)
	}
	stored := proto.CloneOf(pod)
	stored.Metadata.ResourceVersion = "42"

	wire := Stored{Object: stored, data: data, rev: 42}.Wire()
	b, err := proto.Marshal(wire)
	if err != nil {
		t.Fatalf("marshal the wire form: %v", err)
	}
	got := &corev1.Pod{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatalf("decode the wire form: %v", err)
	}
	if !proto.Equal(got, stored) {
		t.Fatalf("wire form decodes to\n%v\nwant\n%v", got, stored)
	}
}

func TestWireWithoutStoredBytesIsTheObject(t *testing.T) {
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "x"}}
	if w := (Stored{Object: pod}).Wire(); w != proto.Message(pod) {
		t.Fatalf("Wire() = %v, want the object itself", w)
	}
}
