package validation

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// MinTokenExpirationSeconds is the shortest validity a TokenRequest may ask
// for, as in Kubernetes.
const MinTokenExpirationSeconds = 600

func validateServiceAccount(sa *corev1.ServiceAccount) List {
	return validateMeta(sa.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
}

// ValidateTokenRequest checks a TokenRequest's spec: audiences non-empty
// strings, expirationSeconds (when set) at least 600.
func ValidateTokenRequest(tr *corev1.TokenRequest) List {
	var errs List
	p := path("spec")
	for i, a := range tr.GetSpec().GetAudiences() {
		if a == "" {
			errs = append(errs, required(p.child("audiences").index(i), "an audience may not be empty"))
		}
	}
	if s := tr.GetSpec(); s != nil && s.ExpirationSeconds != nil {
		if e := s.GetExpirationSeconds(); e < MinTokenExpirationSeconds {
			errs = append(errs, invalid(p.child("expirationSeconds"), e, "may not specify a duration less than 600 seconds (10 minutes)"))
		}
	}
	return errs
}
