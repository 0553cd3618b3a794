package validation

import (
	"strings"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/proto"
)

// totalAnnotationSize is the most bytes all annotation keys and values of one
// object may take together.
const totalAnnotationSize = 256 << 10

// nameFunc returns why a name is invalid, or nil.
type nameFunc func(string) []string

// metaOpts says how to check an object's metadata.
type metaOpts struct {
	namespaced bool
	name       nameFunc
}

func validateMeta(m *metav1.ObjectMeta, o metaOpts) List {
	p := path("metadata")
	if m == nil {
		return List{required(p, "")}
	}
	var errs List
	switch {
	case m.GetGenerateName() != "":
		errs = append(errs, check(p.child("generateName"), m.GetGenerateName(), o.name(maskTrailingDash(m.GetGenerateName())))...)
		if m.GetName() != "" {
			errs = append(errs, check(p.child("name"), m.GetName(), o.name(m.GetName()))...)
		}
	case m.GetName() == "":
		errs = append(errs, required(p.child("name"), "name or generateName is required"))
	default:
		errs = append(errs, check(p.child("name"), m.GetName(), o.name(m.GetName()))...)
	}
	switch {
	case o.namespaced && m.GetNamespace() == "":
		errs = append(errs, required(p.child("namespace"), ""))
	case o.namespaced:
		errs = append(errs, check(p.child("namespace"), m.GetNamespace(), names.Label(m.GetNamespace()))...)
	case m.GetNamespace() != "":
		errs = append(errs, forbidden(p.child("namespace"), "not allowed on this type"))
	}
	errs = append(errs, nonNegative(p.child("generation"), int64(m.GetGeneration()))...)
	errs = append(errs, templateMeta(p, m)...)
	errs = append(errs, ownerReferences(p.child("ownerReferences"), m.GetOwnerReferences())...)
	errs = append(errs, finalizers(p.child("finalizers"), m.GetFinalizers())...)
	return errs
}

// templateMeta checks the metadata of a template: labels and annotations.
func templateMeta(p path, m *metav1.ObjectMeta) List {
	errs := labels(p.child("labels"), m.GetLabels())
	return append(errs, annotations(p.child("annotations"), m.GetAnnotations())...)
}

// maskTrailingDash lets a generateName prefix end in "-".
func maskTrailingDash(s string) string {
	if len(s) > 1 && strings.HasSuffix(s, "-") {
		return s[:len(s)-1] + "a"
	}
	return s
}

// labels checks label keys and values; errors name the map, as Kubernetes does.
func labels(p path, l map[string]string) List {
	var errs List
	var kBuf [16]string
	for _, k := range sortedKeys(kBuf[:0], l) {
		errs = append(errs, check(p, k, names.LabelKey(k))...)
		errs = append(errs, check(p, l[k], names.LabelValue(l[k]))...)
	}
	return errs
}

func annotations(p path, a map[string]string) List {
	var errs List
	size := 0
	var kBuf [16]string
	for _, k := range sortedKeys(kBuf[:0], a) {
		errs = append(errs, check(p, k, names.LabelKey(strings.ToLower(k)))...)
		size += len(k) + len(a[k])
	}
	if size > totalAnnotationSize {
		errs = append(errs, tooLong(p, totalAnnotationSize))
	}
	return errs
}

func ownerReferences(p path, refs []*metav1.OwnerReference) List {
	var errs List
	controllers := 0
	for i, r := range refs {
		ip := p.index(i)
		if r.GetApiVersion() == "" {
			errs = append(errs, required(ip.child("apiVersion"), ""))
		}
		if r.GetKind() == "" {
			errs = append(errs, required(ip.child("kind"), ""))
		}
		if r.GetName() == "" {
			errs = append(errs, required(ip.child("name"), ""))
		}
		if r.GetUid() == "" {
			errs = append(errs, required(ip.child("uid"), ""))
		}
		if r.GetController() {
			controllers++
		}
	}
	if controllers > 1 {
		errs = append(errs, invalid(p, controllers, "only one reference can have controller set to true"))
	}
	return errs
}

var standardFinalizers = map[string]bool{"kubernetes": true, "orphan": true, "foregroundDeletion": true}

func finalizers(p path, fs []string) List {
	var errs List
	seen := map[string]bool{}
	for i, f := range fs {
		ip := p.index(i)
		if seen[f] {
			errs = append(errs, duplicate(ip, f))
		}
		seen[f] = true
		if reasons := names.LabelKey(f); reasons != nil {
			errs = append(errs, check(ip, f, reasons)...)
		} else if !strings.Contains(f, "/") && !standardFinalizers[f] {
			errs = append(errs, invalid(ip, f, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// metaUpdate checks the metadata fields that never change.
func metaUpdate(n, o *metav1.ObjectMeta) List {
	p := path("metadata")
	var errs List
	if n.GetName() != o.GetName() {
		errs = append(errs, invalid(p.child("name"), n.GetName(), "field is immutable"))
	}
	if n.GetNamespace() != o.GetNamespace() {
		errs = append(errs, invalid(p.child("namespace"), n.GetNamespace(), "field is immutable"))
	}
	if n.GetUid() != o.GetUid() {
		errs = append(errs, invalid(p.child("uid"), n.GetUid(), "field is immutable"))
	}
	if !proto.Equal(n.GetCreationTimestamp(), o.GetCreationTimestamp()) {
		errs = append(errs, invalid(p.child("creationTimestamp"), n.GetCreationTimestamp().AsTime().String(), "field is immutable"))
	}
	return errs
}

// metaOf finds the "metadata" field of any object.
func metaOf(obj proto.Message) *metav1.ObjectMeta {
	r := obj.ProtoReflect()
	f := r.Descriptor().Fields().ByName("metadata")
	if f == nil || !r.Has(f) {
		return nil
	}
	m, _ := r.Get(f).Message().Interface().(*metav1.ObjectMeta)
	return m
}

// selector checks a label selector's keys, values and operators.
func selector(p path, s *metav1.LabelSelector) List {
	errs := labels(p.child("matchLabels"), s.GetMatchLabels())
	for i, r := range s.GetMatchExpressions() {
		ip := p.child("matchExpressions").index(i)
		errs = append(errs, check(ip.child("key"), r.GetKey(), names.LabelKey(r.GetKey()))...)
		switch r.GetOperator() {
		case "In", "NotIn":
			if len(r.GetValues()) == 0 {
				errs = append(errs, required(ip.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case "Exists", "DoesNotExist":
			if len(r.GetValues()) > 0 {
				errs = append(errs, forbidden(ip.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, notSupported(ip.child("operator"), r.GetOperator(), "In", "NotIn", "Exists", "DoesNotExist"))
		}
		for j, v := range r.GetValues() {
			errs = append(errs, check(ip.child("values").index(j), v, names.LabelValue(v))...)
		}
	}
	return errs
}

// selectorMatches says whether s selects an object with labels l.
func selectorMatches(s *metav1.LabelSelector, l map[string]string) bool {
	for k, v := range s.GetMatchLabels() {
		if got, ok := l[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.GetMatchExpressions() {
		v, ok := l[r.GetKey()]
		in := false
		for _, want := range r.GetValues() {
			in = in || (ok && v == want)
		}
		switch r.GetOperator() {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}
