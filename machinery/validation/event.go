package validation

import (
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

func validateEvent(ev *corev1.Event) List {
	errs := validateMeta(ev.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	io := ev.GetInvolvedObject()
	if io == nil {
		errs = append(errs, required("involvedObject", ""))
	} else if io.GetNamespace() != "" && io.GetNamespace() != ev.GetMetadata().GetNamespace() {
		errs = append(errs, invalid("involvedObject.namespace", io.GetNamespace(), "does not match event.namespace"))
	}
	errs = append(errs, oneOf("type", ev.GetType(), "Normal", "Warning")...)
	return append(errs, nonNegative("count", int64(ev.GetCount()))...)
}
