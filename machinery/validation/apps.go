package validation

import (
	"regexp"
	"strconv"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/types/known/structpb"
)

func validateReplicaSet(rs *appsv1.ReplicaSet) List {
	errs := validateMeta(rs.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	s, p := rs.GetSpec(), path("spec")
	if s == nil {
		return append(errs, required(p, ""))
	}
	errs = append(errs, optNonNegative(p.child("replicas"), s.Replicas)...)
	errs = append(errs, nonNegative(p.child("minReadySeconds"), int64(s.GetMinReadySeconds()))...)
	return append(errs, selectedTemplate(p, s.GetSelector(), s.GetTemplate(), true, "Always")...)
}

func validateDeployment(d *appsv1.Deployment) List {
	errs := validateMeta(d.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	s, p := d.GetSpec(), path("spec")
	if s == nil {
		return append(errs, required(p, ""))
	}
	errs = append(errs, optNonNegative(p.child("replicas"), s.Replicas)...)
	errs = append(errs, nonNegative(p.child("minReadySeconds"), int64(s.GetMinReadySeconds()))...)
	errs = append(errs, selectedTemplate(p, s.GetSelector(), s.GetTemplate(), true, "Always")...)
	errs = append(errs, strategy(p.child("strategy"), s.GetStrategy())...)
	errs = append(errs, optNonNegative(p.child("revisionHistoryLimit"), s.RevisionHistoryLimit)...)
	if pd := s.ProgressDeadlineSeconds; pd != nil && *pd <= s.GetMinReadySeconds() {
		errs = append(errs, invalid(p.child("progressDeadlineSeconds"), *pd, "must be greater than minReadySeconds"))
	}
	return errs
}

// selectedTemplate checks a controller's selector and pod template, and that
// the one selects the other. needSelector says the selector must be given.
func selectedTemplate(p path, sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, needSelector bool, restartPolicies ...string) List {
	var errs List
	sp := p.child("selector")
	switch {
	case sel == nil && needSelector:
		errs = append(errs, required(sp, ""))
	case sel == nil:
	case len(sel.GetMatchLabels()) == 0 && len(sel.GetMatchExpressions()) == 0:
		errs = append(errs, invalid(sp, nil, "empty selector is invalid"))
	default:
		serrs := selector(sp, sel)
		errs = append(errs, serrs...)
		if serrs == nil && t != nil && !selectorMatches(sel, t.GetMetadata().GetLabels()) {
			errs = append(errs, invalid(p.child("template", "metadata", "labels"), t.GetMetadata().GetLabels(), "`selector` does not match template `labels`"))
		}
	}
	return append(errs, podTemplate(p.child("template"), t, restartPolicies...)...)
}

func strategy(p path, s *appsv1.DeploymentStrategy) List {
	errs := oneOf(p.child("type"), s.GetType(), "RollingUpdate", "Recreate")
	ru := s.GetRollingUpdate()
	if ru == nil {
		return errs
	}
	if s.GetType() == "Recreate" {
		return append(errs, forbidden(p.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
	}
	up := p.child("rollingUpdate")
	muErrs, muZero := intOrPercent(up.child("maxUnavailable"), ru.GetMaxUnavailable(), true)
	msErrs, msZero := intOrPercent(up.child("maxSurge"), ru.GetMaxSurge(), false)
	errs = append(append(errs, muErrs...), msErrs...)
	if muZero && msZero {
		errs = append(errs, invalid(up.child("maxUnavailable"), valueOf(ru.GetMaxUnavailable()), "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

var percentRE = regexp.MustCompile(`^[0-9]+%$`)

// intOrPercent checks a count >= 0 or a percentage "N%"; zero says the
// value is given and is zero.
func intOrPercent(p path, v *structpb.Value, atMost100 bool) (errs List, zero bool) {
	n, s, isInt, set, ok := intOrString(v)
	switch {
	case !set:
		return nil, false
	case !ok:
		return List{invalid(p, valueOf(v), "must be an integer or a percentage")}, false
	case isInt:
		return nonNegative(p, n), n == 0
	case !percentRE.MatchString(s):
		return List{invalid(p, s, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')")}, false
	}
	pct, _ := strconv.Atoi(s[:len(s)-1])
	if atMost100 && pct > 100 {
		return List{invalid(p, s, "must not be greater than 100%")}, false
	}
	return nil, pct == 0
}
