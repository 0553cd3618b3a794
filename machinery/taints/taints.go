// Package taints matches pods' tolerations against nodes' taints, with
// Kubernetes' semantics (Toleration.ToleratesTaint): shared by the
// scheduler's TaintToleration plugin and the controller-manager's node
// lifecycle (NoExecute evictions).
package taints

import corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"

// Taint effects.
const (
	NoSchedule       = "NoSchedule"
	PreferNoSchedule = "PreferNoSchedule"
	NoExecute        = "NoExecute"
)

// ToleratesTaint reports whether tol tolerates taint: an empty effect
// matches every effect and an empty key every key; then the operator
// Exists matches any value, Equal (or empty) the same value, and any
// other operator nothing. So {operator: Exists} tolerates every taint,
// and an empty key with Equal every taint of that value.
func ToleratesTaint(tol *corev1.Toleration, taint *corev1.Taint) bool {
	if tol.GetEffect() != "" && tol.GetEffect() != taint.GetEffect() {
		return false
	}
	if tol.GetKey() != "" && tol.GetKey() != taint.GetKey() {
		return false
	}
	switch tol.GetOperator() {
	case "", "Equal":
		return tol.GetValue() == taint.GetValue()
	case "Exists":
		return true
	default:
		return false
	}
}

// Tolerated reports whether any of tols tolerates taint.
func Tolerated(tols []*corev1.Toleration, taint *corev1.Taint) bool {
	for _, t := range tols {
		if ToleratesTaint(t, taint) {
			return true
		}
	}
	return false
}
