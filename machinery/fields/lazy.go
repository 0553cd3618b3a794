package fields

import (
	"strconv"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/fields"
)

// Of returns the selectable fields of obj without building a map: each
// value is read when a selector asks for it. A watch cache matching one
// event against a thousand watchers' selectors calls this per watcher, so
// it must not allocate; Set is the same values as a map.
// Each kind gets a pointer-shaped wrapper, so the interface holds no copy.
func Of(obj proto.Message) fields.Fields {
	switch o := obj.(type) {
	case *corev1.Pod:
		return (*podFields)(o)
	case *corev1.Node:
		return (*nodeFields)(o)
	case *corev1.Event:
		return (*eventFields)(o)
	}
	return anyFields{obj}
}

type podFields corev1.Pod

func (p *podFields) Has(f string) bool   { _, ok := value((*corev1.Pod)(p), f); return ok }
func (p *podFields) Get(f string) string { v, _ := value((*corev1.Pod)(p), f); return v }

type nodeFields corev1.Node

func (n *nodeFields) Has(f string) bool   { _, ok := value((*corev1.Node)(n), f); return ok }
func (n *nodeFields) Get(f string) string { v, _ := value((*corev1.Node)(n), f); return v }

type eventFields corev1.Event

func (e *eventFields) Has(f string) bool   { _, ok := value((*corev1.Event)(e), f); return ok }
func (e *eventFields) Get(f string) string { v, _ := value((*corev1.Event)(e), f); return v }

// anyFields serves the kinds that are rarely watched by many selectors.
type anyFields struct{ obj proto.Message }

func (a anyFields) Has(f string) bool   { _, ok := value(a.obj, f); return ok }
func (a anyFields) Get(f string) string { v, _ := value(a.obj, f); return v }

// value is one selectable field of obj; false when obj has no such field.
func value(obj proto.Message, field string) (string, bool) {
	switch field {
	case "metadata.name", "metadata.namespace":
		var meta *metav1.ObjectMeta
		if m, ok := obj.(interface{ GetMetadata() *metav1.ObjectMeta }); ok {
			meta = m.GetMetadata()
		}
		if field == "metadata.name" {
			return meta.GetName(), true
		}
		return meta.GetNamespace(), true
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		return podValue(o, field)
	case *corev1.Node:
		if field == "spec.unschedulable" {
			return strconv.FormatBool(o.GetSpec().GetUnschedulable()), true
		}
	case *corev1.Namespace:
		if field == "status.phase" {
			return o.GetStatus().GetPhase(), true
		}
	case *corev1.Secret:
		if field == "type" {
			return o.GetType(), true
		}
	case *corev1.Event:
		return eventValue(o, field)
	case *batchv1.Job:
		if field == "status.successful" {
			return strconv.Itoa(int(o.GetStatus().GetSucceeded())), true
		}
	}
	return "", false
}

func podValue(o *corev1.Pod, field string) (string, bool) {
	switch field {
	case "spec.nodeName":
		return o.GetSpec().GetNodeName(), true
	case "spec.restartPolicy":
		return o.GetSpec().GetRestartPolicy(), true
	case "spec.schedulerName":
		return o.GetSpec().GetSchedulerName(), true
	case "spec.serviceAccountName":
		return o.GetSpec().GetServiceAccountName(), true
	case "status.phase":
		return o.GetStatus().GetPhase(), true
	case "status.podIP":
		podIP := o.GetStatus().GetPodIp()
		if ips := o.GetStatus().GetPodIps(); podIP == "" && len(ips) > 0 {
			podIP = ips[0].GetIp()
		}
		return podIP, true
	case "status.nominatedNodeName":
		return o.GetStatus().GetNominatedNodeName(), true
	}
	return "", false
}

func eventValue(o *corev1.Event, field string) (string, bool) {
	ref := o.GetInvolvedObject()
	switch field {
	case "involvedObject.kind":
		return ref.GetKind(), true
	case "involvedObject.namespace":
		return ref.GetNamespace(), true
	case "involvedObject.name":
		return ref.GetName(), true
	case "involvedObject.uid":
		return ref.GetUid(), true
	case "involvedObject.apiVersion":
		return ref.GetApiVersion(), true
	case "involvedObject.resourceVersion":
		return ref.GetResourceVersion(), true
	case "involvedObject.fieldPath":
		return ref.GetFieldPath(), true
	case "reason":
		return o.GetReason(), true
	case "reportingComponent":
		return o.GetReportingComponent(), true
	case "source":
		if s := o.GetSource().GetComponent(); s != "" {
			return s, true
		}
		return o.GetReportingComponent(), true
	case "type":
		return o.GetType(), true
	}
	return "", false
}
