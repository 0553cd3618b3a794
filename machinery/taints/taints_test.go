package taints

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestToleratesTaint(t *testing.T) {
	taint := &corev1.Taint{Key: "dedicated", Value: "gpu", Effect: NoSchedule}
	unreachable := &corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: NoExecute}
	for _, tc := range []struct {
		name  string
		tol   *corev1.Toleration
		taint *corev1.Taint
		want  bool
	}{
		{"Equal, same key, value and effect", &corev1.Toleration{Key: "dedicated", Operator: "Equal", Value: "gpu", Effect: NoSchedule}, taint, true},
		{"operator defaults to Equal", &corev1.Toleration{Key: "dedicated", Value: "gpu"}, taint, true},
		{"Equal, other value", &corev1.Toleration{Key: "dedicated", Operator: "Equal", Value: "cpu"}, taint, false},
		{"Exists ignores the value", &corev1.Toleration{Key: "dedicated", Operator: "Exists"}, taint, true},
		{"Exists without a key tolerates everything", &corev1.Toleration{Operator: "Exists"}, taint, true},
		{"empty key, Equal: any key of that value", &corev1.Toleration{Operator: "Equal", Value: "gpu"}, taint, true},
		{"empty key, Equal, other value", &corev1.Toleration{Operator: "Equal", Value: "cpu"}, taint, false},
		{"empty key, Equal, empty value: a taint without value", &corev1.Toleration{Operator: "Equal", Effect: NoExecute}, unreachable, true},
		{"other key", &corev1.Toleration{Key: "team", Operator: "Exists"}, taint, false},
		{"other effect", &corev1.Toleration{Key: "dedicated", Operator: "Exists", Effect: NoExecute}, taint, false},
		{"unknown operator", &corev1.Toleration{Key: "dedicated", Operator: "Like", Value: "gpu"}, taint, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ToleratesTaint(tc.tol, tc.taint); got != tc.want {
				t.Fatalf("ToleratesTaint = %v, want %v", got, tc.want)
			}
		})
	}
	if Tolerated(nil, taint) || !Tolerated([]*corev1.Toleration{{Key: "team", Operator: "Exists"}, {Key: "dedicated", Operator: "Exists"}}, taint) {
		t.Fatal("Tolerated does not say whether any toleration tolerates")
	}
}
