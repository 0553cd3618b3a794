// Package selector turns label selectors, in their string form
// ("env in (production, development),!canary") and in their object form
// (metav1.LabelSelector with matchLabels and matchExpressions), into
// k8s.io/apimachinery label selectors with Kubernetes' semantics.
package selector

import (
	"errors"
	"fmt"
	"sort"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// The operators of a LabelSelectorRequirement.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// ErrNilSelector is returned by ToString for a nil selector: it selects
// nothing, which has no string form.
var ErrNilSelector = errors.New("selector: nil label selector selects nothing and has no string form")

// Parse parses the string form of a label selector: comma-separated terms
// "k=v", "k==v", "k!=v", "k in (a,b)", "k notin (a,b)", "k" and "!k".
// The empty string selects everything.
func Parse(s string) (labels.Selector, error) {
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector %q: %w", s, err)
	}
	return sel, nil
}

// FromLabelSelector converts the object form of a selector, as
// Kubernetes' LabelSelectorAsSelector does: a nil selector selects
// nothing, an empty one selects everything, otherwise all of matchLabels
// and matchExpressions must hold.
func FromLabelSelector(ls *metav1.LabelSelector) (labels.Selector, error) {
	if ls == nil {
		return labels.Nothing(), nil
	}
	if len(ls.GetMatchLabels())+len(ls.GetMatchExpressions()) == 0 {
		return labels.Everything(), nil
	}
	reqs := make([]labels.Requirement, 0, len(ls.GetMatchLabels())+len(ls.GetMatchExpressions()))
	// Sort the keys so that errors are deterministic.
	keys := make([]string, 0, len(ls.GetMatchLabels()))
	for k := range ls.GetMatchLabels() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, err := labels.NewRequirement(k, selection.Equals, []string{ls.GetMatchLabels()[k]})
		if err != nil {
			return nil, fmt.Errorf("matchLabels[%s]: %w", k, err)
		}
		reqs = append(reqs, *r)
	}
	for i, expr := range ls.GetMatchExpressions() {
		op, err := operator(expr.GetOperator())
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
		r, err := labels.NewRequirement(expr.GetKey(), op, append([]string(nil), expr.GetValues()...))
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
		reqs = append(reqs, *r)
	}
	return labels.NewSelector().Add(reqs...), nil
}

// ToString renders the object form of a selector as its string form, the
// one Parse reads and the labelSelector query parameter carries. An empty
// selector renders as "" (everything); a nil one is ErrNilSelector.
func ToString(ls *metav1.LabelSelector) (string, error) {
	if ls == nil {
		return "", ErrNilSelector
	}
	sel, err := FromLabelSelector(ls)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}

func operator(op string) (selection.Operator, error) {
	switch op {
	case OpIn:
		return selection.In, nil
	case OpNotIn:
		return selection.NotIn, nil
	case OpExists:
		return selection.Exists, nil
	case OpDoesNotExist:
		return selection.DoesNotExist, nil
	}
	return "", fmt.Errorf("%q is not a valid label selector operator (want In, NotIn, Exists or DoesNotExist)", op)
}
