// Package fields implements field selectors ("status.phase=Running,
// spec.nodeName!=") on top of k8s.io/apimachinery/pkg/fields: which fields
// each resource lets a client select on, and the values of those fields
// for an object. The set of fields follows Kubernetes.
package fields

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/fields"
)

// ErrNotSupported is wrapped by Parse when a selector names a field the
// resource does not support; the message is Kubernetes' own
// ("field label not supported: spec.foo").
var ErrNotSupported = errors.New("field label not supported")

// Every kind supports selecting on its name and namespace.
var metaFields = []string{"metadata.name", "metadata.namespace"}

// specific lists, per resource, the fields beyond metaFields. Keep it in
// step with Set: a test checks they agree.
var specific = map[string][]string{
	"pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
		"status.phase", "status.podIP", "status.nominatedNodeName"},
	"nodes":      {"spec.unschedulable"},
	"namespaces": {"status.phase"},
	"secrets":    {"type"},
	"events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
		"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
		"reason", "reportingComponent", "source", "type"},
	"jobs": {"status.successful"},
}

// Supported returns the fields a resource ("pods", or any name
// scheme.Lookup knows) can be selected on, sorted, and false when the
// resource is unknown.
func Supported(resource string) ([]string, bool) {
	k, ok := scheme.Lookup(resource)
	if !ok {
		return nil, false
	}
	out := append(slices.Clone(metaFields), specific[k.Resource]...)
	slices.Sort(out)
	return out, true
}

// Parse parses a field selector for a resource and rejects any field the
// resource does not support. The empty string selects everything.
func Parse(resource, s string) (fields.Selector, error) {
	supported, ok := Supported(resource)
	if !ok {
		return nil, fmt.Errorf("field selector %q: unknown resource %q", s, resource)
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, fmt.Errorf("invalid field selector %q: %w", s, err)
	}
	for _, r := range sel.Requirements() {
		if !slices.Contains(supported, r.Field) {
			return nil, fmt.Errorf("%w: %s", ErrNotSupported, r.Field)
		}
	}
	return sel, nil
}

// Set returns the selectable fields of an object and their values, for
// matching with a selector from Parse: sel.Matches(fields.Set(obj)).
func Set(obj proto.Message) fields.Set {
	var meta *metav1.ObjectMeta
	if m, ok := obj.(interface{ GetMetadata() *metav1.ObjectMeta }); ok {
		meta = m.GetMetadata()
	}
	set := fields.Set{"metadata.name": meta.GetName(), "metadata.namespace": meta.GetNamespace()}
	switch o := obj.(type) {
	case *corev1.Pod:
		podIP := o.GetStatus().GetPodIp()
		if ips := o.GetStatus().GetPodIps(); podIP == "" && len(ips) > 0 {
			podIP = ips[0].GetIp()
		}
		set["spec.nodeName"] = o.GetSpec().GetNodeName()
		set["spec.restartPolicy"] = o.GetSpec().GetRestartPolicy()
		set["spec.schedulerName"] = o.GetSpec().GetSchedulerName()
		set["spec.serviceAccountName"] = o.GetSpec().GetServiceAccountName()
		set["status.phase"] = o.GetStatus().GetPhase()
		set["status.podIP"] = podIP
		set["status.nominatedNodeName"] = o.GetStatus().GetNominatedNodeName()
	case *corev1.Node:
		set["spec.unschedulable"] = strconv.FormatBool(o.GetSpec().GetUnschedulable())
	case *corev1.Namespace:
		set["status.phase"] = o.GetStatus().GetPhase()
	case *corev1.Secret:
		set["type"] = o.GetType()
	case *corev1.Event:
		ref := o.GetInvolvedObject()
		source := o.GetSource().GetComponent()
		if source == "" {
			source = o.GetReportingComponent()
		}
		set["involvedObject.kind"] = ref.GetKind()
		set["involvedObject.namespace"] = ref.GetNamespace()
		set["involvedObject.name"] = ref.GetName()
		set["involvedObject.uid"] = ref.GetUid()
		set["involvedObject.apiVersion"] = ref.GetApiVersion()
		set["involvedObject.resourceVersion"] = ref.GetResourceVersion()
		set["involvedObject.fieldPath"] = ref.GetFieldPath()
		set["reason"] = o.GetReason()
		set["reportingComponent"] = o.GetReportingComponent()
		set["source"] = source
		set["type"] = o.GetType()
	case *batchv1.Job:
		set["status.successful"] = strconv.Itoa(int(o.GetStatus().GetSucceeded()))
	}
	return set
}
