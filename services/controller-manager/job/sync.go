package job

import (
	"context"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// counts are a Job's pods by state.
type counts struct {
	active, ready, succeeded, failed int32
	// restarts are container restarts of OnFailure pods: failures too.
	restarts   int32
	activePods []*corev1.Pod
	failedPods []*corev1.Pod
}

func count(pods []*corev1.Pod) counts {
	var n counts
	for _, p := range pods {
		switch p.GetStatus().GetPhase() {
		case "Succeeded":
			n.succeeded++
		case "Failed":
			n.failed++
			n.failedPods = append(n.failedPods, p)
		default:
			if p.GetMetadata().GetDeletionTimestamp() != nil {
				continue
			}
			n.active++
			n.activePods = append(n.activePods, p)
			if controller.Ready(p) {
				n.ready++
			}
			for _, cs := range p.GetStatus().GetContainerStatuses() {
				n.restarts += cs.GetRestartCount()
			}
		}
	}
	return n
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	j, ok := c.jobs.Get(ns, name)
	if !ok {
		c.exp.Forget(key)
		return nil
	}
	if j.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	pods, err := c.owned(j)
	if err != nil {
		return err
	}
	n := count(pods)
	st := proto.Clone(j.GetStatus()).(*batchv1.JobStatus)
	if st == nil {
		st = &batchv1.JobStatus{}
	}
	now := c.now()
	s := j.GetSpec()
	if done, typ := Finished(j); done {
		// A Failed Job's running pods go, on every sync until they are
		// gone: a delete that failed when the condition was written is
		// retried here.
		var delErr error
		if typ == "Failed" && len(n.activePods) > 0 {
			if delErr = c.deleteActive(ctx, j, n.activePods); delErr == nil {
				n.active, n.ready = 0, 0
			}
		}
		st.Active, st.Succeeded, st.Failed, st.Ready = n.active, n.succeeded, n.failed, proto.Int32(n.ready)
		if err := c.writeStatus(ctx, j, st); err != nil {
			return err
		}
		return delErr
	}
	if st.StartTime == nil && !s.GetSuspend() {
		st.StartTime = timestamppb.New(now.Truncate(time.Second))
	}
	var failReason, failMsg string
	switch {
	case n.failed+n.restarts > s.GetBackoffLimit():
		failReason, failMsg = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
	case s.ActiveDeadlineSeconds != nil && st.StartTime != nil && !s.GetSuspend():
		deadline := st.StartTime.AsTime().Add(time.Duration(s.GetActiveDeadlineSeconds()) * time.Second)
		if !now.Before(deadline) {
			failReason, failMsg = "DeadlineExceeded", "Job was active longer than specified deadline"
		} else {
			c.EnqueueAfter(key, deadline.Sub(now))
		}
	}
	var manageErr error
	switch {
	case failReason != "":
		if manageErr = c.deleteActive(ctx, j, n.activePods); manageErr == nil {
			n.active, n.ready = 0, 0
		}
		setCondition(st, "Failed", failReason, failMsg, now)
		c.events.Event(ref(j), record.Warning, failReason, failMsg)
	case complete(s, n):
		setCondition(st, "Complete", "", "", now)
		st.CompletionTime = timestamppb.New(now.Truncate(time.Second))
		c.events.Event(ref(j), record.Normal, "Completed", "Job completed")
	case c.exp.Satisfied(key):
		if left := backoffLeft(c.backoff, n.failed+n.restarts, n.failedPods, now); left > 0 && wanted(s, n) > n.active {
			c.EnqueueAfter(key, left)
			break
		}
		manageErr = c.manage(ctx, j, n)
	}
	st.Active, st.Succeeded, st.Failed, st.Ready = n.active, n.succeeded, n.failed, proto.Int32(n.ready)
	if err := c.writeStatus(ctx, j, st); err != nil {
		return err
	}
	return manageErr
}

// complete: completions pods succeeded, or (no completions: a work
// queue) one succeeded and none is running.
func complete(s *batchv1.JobSpec, n counts) bool {
	if s.Completions != nil {
		return n.succeeded >= s.GetCompletions()
	}
	return n.succeeded > 0 && n.active == 0
}

// wanted is how many pods should be running now.
func wanted(s *batchv1.JobSpec, n counts) int32 {
	if s.GetSuspend() {
		return 0
	}
	par := s.GetParallelism()
	if s.Completions == nil {
		if n.succeeded > 0 {
			return 0
		}
		return par
	}
	return max(min(par, s.GetCompletions()-n.succeeded), 0)
}

// manage creates or deletes pods to have wanted(j) running.
func (c *Controller) manage(ctx context.Context, j *batchv1.Job, n counts) error {
	key := controller.Key(j.GetMetadata())
	diff := wanted(j.GetSpec(), n) - n.active
	switch {
	case diff > 0:
		c.exp.Expect(key, int(diff), nil)
		for range diff {
			if err := c.createPod(ctx, j); err != nil {
				c.exp.CreationObserved(key)
				c.events.Eventf(ref(j), record.Warning, "FailedCreate", "Error creating pod: %v", err)
				return fmt.Errorf("job %s: create pod: %w", key, err)
			}
		}
		c.events.Eventf(ref(j), record.Normal, "SuccessfulCreate", "Created %d pod(s)", diff)
	case diff < 0:
		return c.deleteActive(ctx, j, n.activePods[:-diff])
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, j *batchv1.Job) error {
	_, err := c.cs.Pods().Create(ctx, controller.PodFromTemplate(j.GetSpec().GetTemplate(), j.GetMetadata(), "batch/v1", "Job"))
	return err
}

func (c *Controller) deleteActive(ctx context.Context, j *batchv1.Job, pods []*corev1.Pod) error {
	key := controller.Key(j.GetMetadata())
	uids := make([]string, len(pods))
	for i, p := range pods {
		uids[i] = p.GetMetadata().GetUid()
	}
	c.exp.Expect(key, 0, uids)
	for _, p := range pods {
		_, err := c.cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: p.GetMetadata().GetNamespace(), Name: p.GetMetadata().GetName()})
		if err != nil {
			c.exp.DeletionObserved(key, p.GetMetadata().GetUid())
		}
		if err != nil && status.Code(err) != codes.NotFound {
			return fmt.Errorf("job %s: delete pod %s: %w", key, p.GetMetadata().GetName(), err)
		}
	}
	return nil
}

func (c *Controller) writeStatus(ctx context.Context, j *batchv1.Job, st *batchv1.JobStatus) error {
	if proto.Equal(st, j.GetStatus()) {
		return nil
	}
	upd := proto.Clone(j).(*batchv1.Job)
	upd.Status = st
	if _, err := c.cs.Jobs().UpdateStatus(ctx, upd); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("job %s: update status: %w", controller.Key(j.GetMetadata()), err)
	}
	return nil
}

func setCondition(st *batchv1.JobStatus, typ, reason, msg string, now time.Time) {
	ts := timestamppb.New(now.Truncate(time.Second))
	for _, c := range st.Conditions {
		if c.GetType() == typ {
			return
		}
	}
	st.Conditions = append(st.Conditions, &batchv1.JobCondition{Type: typ, Status: "True", Reason: reason, Message: msg, LastProbeTime: ts, LastTransitionTime: ts})
}

func ref(j *batchv1.Job) *corev1.ObjectReference {
	m := j.GetMetadata()
	return &corev1.ObjectReference{ApiVersion: "batch/v1", Kind: "Job", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}
