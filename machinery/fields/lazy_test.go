package fields

import (
	"testing"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// Of and Set must agree on every field of every kind.
func TestOfAgreesWithSet(t *testing.T) {
	meta := &metav1.ObjectMeta{Name: "n", Namespace: "ns"}
	objs := []proto.Message{
		&corev1.Pod{Metadata: meta, Spec: &corev1.PodSpec{NodeName: "node1", RestartPolicy: "Never", SchedulerName: "s", ServiceAccountName: "sa"},
			Status: &corev1.PodStatus{Phase: "Running", PodIps: []*corev1.PodIP{{Ip: "10.244.0.2"}}, NominatedNodeName: "n2"}},
		&corev1.Node{Metadata: meta, Spec: &corev1.NodeSpec{Unschedulable: true}},
		&corev1.Namespace{Metadata: meta, Status: &corev1.NamespaceStatus{Phase: "Active"}},
		&corev1.Secret{Metadata: meta, Type: "Opaque"},
		&corev1.Event{Metadata: meta, InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "p", Uid: "u"}, Reason: "Started", ReportingComponent: "kubelet", Type: "Normal"},
		&batchv1.Job{Metadata: meta, Status: &batchv1.JobStatus{Succeeded: 3}},
		&corev1.ConfigMap{Metadata: meta},
	}
	for _, obj := range objs {
		set, lazy := Set(obj), Of(obj)
		for f, v := range set {
			if !lazy.Has(f) || lazy.Get(f) != v {
				t.Errorf("%T %s: Of gives %q (has %v), Set %q", obj, f, lazy.Get(f), lazy.Has(f), v)
			}
		}
		if lazy.Has("spec.nope") {
			t.Errorf("%T has spec.nope", obj)
		}
	}
}

func TestOfDoesNotAllocate(t *testing.T) {
	sel, err := Parse("pods", "spec.nodeName=node1,status.phase!=Failed")
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"}, Spec: &corev1.PodSpec{NodeName: "node1"}}
	if !sel.Matches(Of(pod)) {
		t.Fatal("no match")
	}
	if n := testing.AllocsPerRun(100, func() { sel.Matches(Of(pod)) }); n != 0 {
		t.Errorf("%v allocations per match, want 0", n)
	}
}
