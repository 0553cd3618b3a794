package nodelifecycle

import (
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestEvictionTime(t *testing.T) {
	added := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	unreachable := &corev1.Taint{Key: TaintUnreachable, Effect: "NoExecute", TimeAdded: timestamppb.New(added)}
	other := &corev1.Taint{Key: "maintenance", Value: "now", Effect: "NoExecute", TimeAdded: timestamppb.New(added)}
	pod := func(tols ...*corev1.Toleration) *corev1.Pod {
		return &corev1.Pod{Spec: &corev1.PodSpec{Tolerations: tols}}
	}
	c := &Controller{cfg: Config{DefaultTolerationSeconds: 300}}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		taints  []*corev1.Taint
		after   time.Duration
		forever bool
	}{
		{"no toleration: the default", pod(), []*corev1.Taint{unreachable}, 300 * time.Second, false},
		{"own toleration seconds", pod(&corev1.Toleration{Key: TaintUnreachable, Operator: "Exists", Effect: "NoExecute", TolerationSeconds: proto.Int32(5)}), []*corev1.Taint{unreachable}, 5 * time.Second, false},
		{"tolerated forever", pod(&corev1.Toleration{Key: TaintUnreachable, Operator: "Exists"}), []*corev1.Taint{unreachable}, 0, true},
		{"wildcard toleration", pod(&corev1.Toleration{Operator: "Exists"}), []*corev1.Taint{unreachable, other}, 0, true},
		{"other taint untolerated: now", pod(), []*corev1.Taint{unreachable, other}, 0, false},
		{"other taint tolerated by value", pod(&corev1.Toleration{Key: "maintenance", Operator: "Equal", Value: "now", TolerationSeconds: proto.Int32(60)}), []*corev1.Taint{other}, 60 * time.Second, false},
		{"mixed nil and finite seconds: the smallest finite", pod(
			&corev1.Toleration{Key: TaintUnreachable, Operator: "Exists", Effect: "NoExecute"},
			&corev1.Toleration{Key: TaintUnreachable, Operator: "Exists", TolerationSeconds: proto.Int32(90)},
			&corev1.Toleration{Operator: "Exists", TolerationSeconds: proto.Int32(30)}), []*corev1.Taint{unreachable}, 30 * time.Second, false},
		{"non-positive seconds: now", pod(&corev1.Toleration{Key: TaintUnreachable, Operator: "Exists", TolerationSeconds: proto.Int32(-5)}), []*corev1.Taint{unreachable}, 0, false},
		{"empty key with Equal: every taint of that (empty) value, forever", pod(&corev1.Toleration{Operator: "Equal", Effect: "NoExecute"}), []*corev1.Taint{unreachable}, 0, true},
		{"other taint, wrong value", pod(&corev1.Toleration{Key: "maintenance", Operator: "Equal", Value: "later"}), []*corev1.Taint{other}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, forever := c.evictionTime(tc.pod, tc.taints)
			if forever != tc.forever || (!forever && !at.Equal(added.Add(tc.after))) {
				t.Fatalf("evictionTime = %v, forever %v; want %v, forever %v", at, forever, added.Add(tc.after), tc.forever)
			}
		})
	}
}
