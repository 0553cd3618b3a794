package app

import (
	"context"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The PodScheduled condition the scheduler sets on a pod that does not fit.
const (
	condPodScheduled    = "PodScheduled"
	reasonUnschedulable = "Unschedulable"
	statusUpdateRetries = 3
)

// setUnschedulable sets the pod's PodScheduled condition to False with
// reason Unschedulable and msg, unless it says that already, the pod is
// gone or it was bound meanwhile. A conflict re-reads the pod and retries.
func (s *scheduler) setUnschedulable(ctx context.Context, pod *corev1.Pod, msg string) {
	for range statusUpdateRetries {
		if pod.GetSpec().GetNodeName() != "" || !conditionDiffers(pod, msg) {
			return
		}
		next := proto.Clone(pod).(*corev1.Pod)
		setCondition(next, msg, time.Now())
		uctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := s.cs.Pods().UpdateStatus(uctx, next)
		cancel()
		switch status.Code(err) {
		case codes.OK, codes.NotFound:
			return
		case codes.Aborted: // stale resourceVersion: read the pod again
		default:
			if ctx.Err() == nil {
				s.log.Warn("pod condition update failed", zap.String("pod", key(pod)), zap.Error(err))
			}
			return
		}
		gctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		m := pod.GetMetadata()
		pod, err = s.cs.Pods().Get(gctx, &metav1.GetOptions{Namespace: m.GetNamespace(), Name: m.GetName()})
		cancel()
		if err != nil {
			return
		}
	}
}

// conditionDiffers reports whether the pod's PodScheduled condition is
// not already False/Unschedulable with msg.
func conditionDiffers(pod *corev1.Pod, msg string) bool {
	for _, c := range pod.GetStatus().GetConditions() {
		if c.GetType() == condPodScheduled {
			return c.GetStatus() != "False" || c.GetReason() != reasonUnschedulable || c.GetMessage() != msg
		}
	}
	return true
}

// setCondition sets PodScheduled=False/Unschedulable with msg on pod,
// keeping lastTransitionTime when the condition was False already.
func setCondition(pod *corev1.Pod, msg string, now time.Time) {
	if pod.Status == nil {
		pod.Status = &corev1.PodStatus{Phase: "Pending"}
	}
	c := &corev1.PodCondition{
		Type: condPodScheduled, Status: "False", Reason: reasonUnschedulable, Message: msg,
		LastTransitionTime: timestamppb.New(now.Truncate(time.Second)),
	}
	for i, old := range pod.Status.Conditions {
		if old.GetType() == condPodScheduled {
			if old.GetStatus() == "False" && old.LastTransitionTime != nil {
				c.LastTransitionTime = old.LastTransitionTime
			}
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
