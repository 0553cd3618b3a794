package nodeaffinity

import (
	"slices"
	"strconv"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// fieldNodeName is the only field matchFields can select on.
const fieldNodeName = "metadata.name"

// MatchesSelector reports whether node satisfies the pod's scheduling
// constraints: every nodeSelector label, and, when set, one of the
// required node affinity terms.
func MatchesSelector(spec *corev1.PodSpec, node *corev1.Node) bool {
	labels := node.GetMetadata().GetLabels()
	for k, v := range spec.GetNodeSelector() {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	req := spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution()
	if req == nil {
		return true
	}
	return slices.ContainsFunc(req.GetNodeSelectorTerms(), func(t *corev1.NodeSelectorTerm) bool { return MatchesTerm(t, node) })
}

// MatchesTerm reports whether node satisfies every expression and field
// requirement of term. A term without requirements matches no node.
func MatchesTerm(term *corev1.NodeSelectorTerm, node *corev1.Node) bool {
	exprs, fields := term.GetMatchExpressions(), term.GetMatchFields()
	if len(exprs) == 0 && len(fields) == 0 {
		return false
	}
	labels := node.GetMetadata().GetLabels()
	for _, r := range exprs {
		v, ok := labels[r.GetKey()]
		if !matches(r, v, ok) {
			return false
		}
	}
	for _, r := range fields {
		if r.GetKey() != fieldNodeName || (r.GetOperator() != "In" && r.GetOperator() != "NotIn") {
			return false
		}
		if !matches(r, node.GetMetadata().GetName(), true) {
			return false
		}
	}
	return true
}

// matches applies one requirement to a value, present or not. Gt and Lt
// compare integers; an unknown operator or a value that is not an integer
// matches nothing.
func matches(r *corev1.NodeSelectorRequirement, value string, present bool) bool {
	switch r.GetOperator() {
	case "In":
		return present && slices.Contains(r.GetValues(), value)
	case "NotIn":
		return !present || !slices.Contains(r.GetValues(), value)
	case "Exists":
		return present
	case "DoesNotExist":
		return !present
	case "Gt", "Lt":
		if !present || len(r.GetValues()) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(value, 10, 64)
		want, err2 := strconv.ParseInt(r.GetValues()[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.GetOperator() == "Gt" {
			return have > want
		}
		return have < want
	default:
		return false
	}
}
