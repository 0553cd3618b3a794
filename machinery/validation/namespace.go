package validation

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

func validateNamespace(ns *corev1.Namespace) List {
	errs := validateMeta(ns.GetMetadata(), metaOpts{name: names.Label})
	errs = append(errs, finalizers("spec.finalizers", ns.GetSpec().GetFinalizers())...)
	return append(errs, oneOf("status.phase", ns.GetStatus().GetPhase(), "Active", "Terminating")...)
}
