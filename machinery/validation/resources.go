package validation

import (
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
)

// quantityOf checks that s parses as a non-negative quantity.
func quantityOf(p path, s string, optional bool) List {
	if s == "" && optional {
		return nil
	}
	q, err := quantity.Parse(s)
	if err != nil {
		return List{invalid(p, s, "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")}
	}
	if q.Sign() < 0 {
		return List{invalid(p, s, "must be greater than or equal to 0")}
	}
	return nil
}

// resourceName checks a container resource name: cpu, memory,
// ephemeral-storage, hugepages-<size>, or a name with a domain.
func resourceName(p path, name string) List {
	if reasons := names.LabelKey(name); reasons != nil {
		return check(p, name, reasons)
	}
	switch {
	case strings.Contains(name, "/"), name == "cpu", name == "memory", name == "ephemeral-storage":
		return nil
	case strings.HasPrefix(name, "hugepages-"):
		if _, err := quantity.Parse(strings.TrimPrefix(name, "hugepages-")); err == nil {
			return nil
		}
	}
	return List{invalid(p, name, "must be a standard resource for containers")}
}

func resources(p path, r *corev1.ResourceRequirements) List {
	var errs List
	var nameBuf [16]string
	for _, kind := range []string{"limits", "requests"} {
		list := r.GetLimits()
		if kind == "requests" {
			list = r.GetRequests()
		}
		for _, name := range sortedKeys(nameBuf[:0], list) {
			kp := p.child(kind).key(name)
			errs = append(errs, resourceName(kp, name)...)
			errs = append(errs, quantityOf(kp, list[name], false)...)
		}
	}
	for _, name := range sortedKeys(nameBuf[:0], r.GetRequests()) {
		lim, ok := r.GetLimits()[name]
		if !ok {
			continue
		}
		rq, err1 := quantity.Parse(r.GetRequests()[name])
		lq, err2 := quantity.Parse(lim)
		if err1 == nil && err2 == nil && rq.Cmp(lq) > 0 {
			errs = append(errs, invalid(p.child("requests").key(name), r.GetRequests()[name],
				"must be less than or equal to "+name+" limit of "+lim))
		}
	}
	return errs
}
