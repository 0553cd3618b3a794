package app

import (
	"context"
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/core"
	"github.com/tugboat-sh/tugboat/services/scheduler/queue"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rpcTimeout bounds each call to the apiserver made for one pod.
const rpcTimeout = 30 * time.Second

// scheduleOne takes one pod off the queue, picks its node against the
// current snapshot, assumes it there and starts its binding; the next
// cycle does not wait for the binding.
func (s *scheduler) scheduleOne(ctx context.Context) {
	qp, err := s.queue.Pop(ctx)
	if err != nil {
		return
	}
	if s.cache.IsAssumed(qp.Key) {
		// A stale update of a pod whose binding is under way requeued it.
		s.queue.Done(qp.Key)
		return
	}
	start := time.Now()
	pod := qp.Pod
	d, err := s.algo.Schedule(s.cache.Snapshot(), pod)
	if err != nil {
		s.failed(ctx, qp, start, err)
		return
	}
	assumed := withNode(pod, d.Node)
	if err := s.cache.AssumePod(assumed); err != nil {
		s.failed(ctx, qp, start, err)
		return
	}
	s.log.Debug("pod assumed", zap.String("pod", qp.Key), zap.String("node", d.Node),
		zap.Int("evaluatedNodes", d.EvaluatedNodes), zap.Int("feasibleNodes", d.FeasibleNodes))
	s.inflight.Go(func() { s.bind(ctx, qp, assumed, start) })
}

// bind binds an assumed pod. On failure the pod is forgotten from the
// cache and retried after its backoff.
func (s *scheduler) bind(ctx context.Context, qp *queue.QueuedPod, assumed *corev1.Pod, start time.Time) {
	node := assumed.GetSpec().GetNodeName()
	m := assumed.GetMetadata()
	bctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	_, err := s.cs.Pods().Bind(bctx, &corev1.Binding{
		ApiVersion: "v1",
		Kind:       "Binding",
		Metadata:   &metav1.ObjectMeta{Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()},
		Target:     &corev1.ObjectReference{ApiVersion: "v1", Kind: "Node", Name: node},
	})
	cancel()
	if err != nil {
		if ferr := s.cache.ForgetPod(assumed); ferr != nil {
			s.log.Debug("forget assumed pod", zap.String("pod", qp.Key), zap.Error(ferr))
		}
		if status.Code(err) == codes.NotFound { // deleted meanwhile: nothing to report on
			s.queue.Delete(assumed)
			s.metrics.attempt(resultError, time.Since(start).Seconds())
			return
		}
		s.failed(ctx, qp, start, err)
		return
	}
	s.queue.Done(qp.Key)
	now := time.Now()
	s.metrics.attempt(resultScheduled, now.Sub(start).Seconds())
	s.metrics.podDuration.Observe(now.Sub(qp.InitialTimestamp).Seconds())
	s.log.Debug("pod bound", zap.String("pod", qp.Key), zap.String("node", node), zap.Int("attempts", qp.Attempts))
	s.events.Eventf(record.PodRef(assumed), record.Normal, "Scheduled", "Successfully assigned %s to %s", qp.Key, node)
}

// failed ends an attempt that placed no pod: an unschedulable pod waits
// for the cluster to change, other failures back off. The pod gets a
// FailedScheduling Event and, when the message changed, its PodScheduled
// condition set to False.
func (s *scheduler) failed(ctx context.Context, qp *queue.QueuedPod, start time.Time, err error) {
	result := resultError
	if core.IsFitError(err) {
		result = resultUnschedulable
		s.queue.Unschedulable(qp)
	} else {
		s.queue.Backoff(qp)
	}
	s.metrics.attempt(result, time.Since(start).Seconds())
	msg := err.Error()
	if ctx.Err() != nil {
		return
	}
	if result == resultError {
		s.log.Warn("scheduling attempt failed", zap.String("pod", qp.Key), zap.Int("attempts", qp.Attempts), zap.Error(err))
	} else {
		s.log.Debug("pod unschedulable", zap.String("pod", qp.Key), zap.Int("attempts", qp.Attempts), zap.String("reason", msg))
	}
	s.events.Eventf(record.PodRef(qp.Pod), record.Warning, "FailedScheduling", "%s", msg)
	s.inflight.Go(func() { s.setUnschedulable(ctx, qp.Pod, msg) })
}
