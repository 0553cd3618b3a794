package validation

import (
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

func validateLease(l *coordinationv1.Lease) List {
	errs := validateMeta(l.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	s := l.GetSpec()
	if s == nil {
		return errs
	}
	errs = append(errs, optPositive("spec.leaseDurationSeconds", s.LeaseDurationSeconds)...)
	return append(errs, optNonNegative("spec.leaseTransitions", s.LeaseTransitions)...)
}
