package registry

import (
	"context"
	"fmt"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// hooks are what a kind does differently from the generic verbs.
type hooks struct {
	// keepStatusOnCreate keeps the status a client sends with a create
	// (nodes register with their status); otherwise it is cleared.
	keepStatusOnCreate bool
	// prepareForCreate adjusts a new object after defaulting.
	prepareForCreate func(obj proto.Message)
	// prepareForUpdate adjusts a changed object after defaulting, before
	// validation, from the current one.
	prepareForUpdate func(next, cur proto.Message)
	// gracePeriod is how long a delete waits for the node agent; 0 deletes at once.
	gracePeriod func(obj proto.Message, opts *metav1.DeleteOptions) int32
	// finalizing says the object still has finalizers of its own kind (a
	// namespace's spec.finalizers) to wait for.
	finalizing func(obj proto.Message) bool
	// prepareForDelete adjusts an object being marked for deletion.
	prepareForDelete func(obj proto.Message)
	// validateDelete refuses deleting some objects.
	validateDelete func(obj proto.Message) error
}

func hooksFor(kind string) hooks {
	switch kind {
	case "Pod":
		return hooks{prepareForCreate: preparePod, gracePeriod: podGracePeriod}
	case "Namespace":
		return hooks{
			finalizing: func(obj proto.Message) bool { return len(obj.(*corev1.Namespace).GetSpec().GetFinalizers()) > 0 },
			prepareForDelete: func(obj proto.Message) {
				ns := obj.(*corev1.Namespace)
				ns.Status = &corev1.NamespaceStatus{Phase: "Terminating"}
			},
			validateDelete: protectNamespace,
		}
	case "Service":
		return hooks{prepareForUpdate: prepareServiceUpdate}
	case "Node":
		return hooks{keepStatusOnCreate: true}
	}
	return hooks{}
}

// preparePod gives a new pod its Pending status.
func preparePod(obj proto.Message) {
	pod := obj.(*corev1.Pod)
	pod.Status = &corev1.PodStatus{Phase: "Pending", QosClass: qosClass(pod.GetSpec())}
	if pod.GetSpec().GetNodeName() != "" {
		pod.Status.Conditions = []*corev1.PodCondition{{Type: "PodScheduled", Status: "True", LastTransitionTime: now()}}
	}
}

// podGracePeriod: a pod on a node gets its grace period to stop its
// containers; an unscheduled or finished pod goes at once.
func podGracePeriod(obj proto.Message, opts *metav1.DeleteOptions) int32 {
	pod := obj.(*corev1.Pod)
	if pod.GetSpec().GetNodeName() == "" {
		return 0
	}
	if p := pod.GetStatus().GetPhase(); p == "Succeeded" || p == "Failed" {
		return 0
	}
	if opts.GracePeriodSeconds != nil {
		return *opts.GracePeriodSeconds
	}
	if g := pod.GetSpec().TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return 30
}

// protectNamespace refuses deleting the namespaces the system lives in.
func protectNamespace(obj proto.Message) error {
	name := obj.(*corev1.Namespace).GetMetadata().GetName()
	switch name {
	case "default", "kube-system", "kube-public":
		return apierr.Forbidden("namespaces", name, "this namespace may not be deleted")
	}
	return nil
}

// Bind assigns a pending pod to a node (the pods/binding subresource).
func (r *Resource) Bind(ctx context.Context, namespace, name, node string) error {
	if r.Kind.Kind != "Pod" {
		return apierr.MethodNotSupported(r.Kind.Resource, "bind")
	}
	if node == "" {
		return apierr.BadRequest("binding target node name is required")
	}
	_, err := r.Mutate(ctx, namespace, name, func(obj proto.Message) error {
		pod := obj.(*corev1.Pod)
		if pod.GetMetadata().GetDeletionTimestamp() != nil {
			return apierr.Conflict("pods", name, "pod is being deleted, cannot be assigned to a host")
		}
		if n := pod.GetSpec().GetNodeName(); n != "" {
			return apierr.Conflict("pods", name, fmt.Sprintf("pod %s is already assigned to node %q", name, n))
		}
		if pod.Spec == nil {
			pod.Spec = &corev1.PodSpec{}
		}
		pod.Spec.NodeName = node
		if pod.Status == nil {
			pod.Status = &corev1.PodStatus{Phase: "Pending"}
		}
		setPodCondition(pod.Status, &corev1.PodCondition{Type: "PodScheduled", Status: "True", LastTransitionTime: timestamppb.New(time.Now().Truncate(time.Second))})
		return nil
	})
	return err
}

func setPodCondition(st *corev1.PodStatus, c *corev1.PodCondition) {
	for i, old := range st.Conditions {
		if old.GetType() == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
