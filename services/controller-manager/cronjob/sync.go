package cronjob

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	cronjobs "github.com/tugboat-sh/tugboat/client/cronjob"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	cj, ok := c.cjs.Get(ns, name)
	if !ok || cj.GetMetadata().GetDeletionTimestamp() != nil {
		return nil
	}
	jobs := c.owned(cj)
	st := proto.Clone(cj.GetStatus()).(*batchv1.CronJobStatus)
	if st == nil {
		st = &batchv1.CronJobStatus{}
	}
	var active []*batchv1.Job
	st.Active = nil
	for _, j := range jobs {
		done, ok := finished(j)
		switch {
		case !done:
			active = append(active, j)
			st.Active = append(st.Active, jobRef(j))
		case ok && j.GetStatus().GetCompletionTime() != nil:
			if t := j.GetStatus().GetCompletionTime(); st.LastSuccessfulTime == nil || t.AsTime().After(st.LastSuccessfulTime.AsTime()) {
				st.LastSuccessfulTime = t
			}
		}
	}
	if err := c.cleanup(ctx, cj, jobs); err != nil {
		return err
	}
	err := c.schedule(ctx, cj, st, active)
	if werr := c.writeStatus(ctx, cj, st); werr != nil {
		return werr
	}
	return err
}

// schedule starts the Job due now, if any, and requeues cj for its next
// schedule time.
func (c *Controller) schedule(ctx context.Context, cj *batchv1.CronJob, st *batchv1.CronJobStatus, active []*batchv1.Job) error {
	if cj.GetSpec().GetSuspend() {
		return nil
	}
	sched, loc, err := Schedule(cj)
	if err != nil {
		c.events.Eventf(ref(cj), record.Warning, "UnparseableSchedule", "%v", err)
		return nil // nothing a retry would fix; an update requeues
	}
	now := c.now()
	p := decide(cj, sched, loc, now)
	c.EnqueueAfter(controller.Key(cj.GetMetadata()), p.next.Sub(now)+100*time.Millisecond)
	if p.run.IsZero() {
		return nil
	}
	if p.many {
		c.events.Event(ref(cj), record.Warning, "TooManyMissedTimes", "too many missed start times; only the latest is started")
	}
	name := JobName(cj, p.run)
	for _, j := range active {
		if j.GetMetadata().GetName() == name {
			return nil // already started
		}
	}
	switch cj.GetSpec().GetConcurrencyPolicy() {
	case "Forbid":
		if len(active) > 0 {
			// lastScheduleTime stays: the time is still due, and starts
			// once the active Job finishes (its update requeues us), if
			// still within startingDeadlineSeconds.
			c.events.Eventf(ref(cj), record.Normal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return nil
		}
	case "Replace":
		policy := "Background"
		for _, j := range active {
			m := j.GetMetadata()
			if _, err := c.cs.Jobs().Delete(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(), PropagationPolicy: &policy}); err != nil && status.Code(err) != codes.NotFound {
				return fmt.Errorf("cronjob %s: replace job %s: %w", cj.GetMetadata().GetName(), m.GetName(), err)
			}
			c.events.Eventf(ref(cj), record.Normal, "SuccessfulDelete", "Deleted job %s", m.GetName())
		}
		st.Active = nil
	}
	j, err := c.cs.Jobs().Create(ctx, cronjobs.Job(cj, name, p.run))
	switch {
	case status.Code(err) == codes.AlreadyExists:
		// Started for this time before (its Job finished already).
	case err != nil:
		c.events.Eventf(ref(cj), record.Warning, "FailedCreate", "Error creating job: %v", err)
		return fmt.Errorf("cronjob %s: create job: %w", cj.GetMetadata().GetName(), err)
	default:
		c.events.Eventf(ref(cj), record.Normal, "SuccessfulCreate", "Created job %s", name)
		st.Active = append(st.Active, jobRef(j))
	}
	st.LastScheduleTime = timestamppb.New(p.run)
	return nil
}

// cleanup deletes the oldest finished Jobs beyond the history limits.
func (c *Controller) cleanup(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	var ok, failed []*batchv1.Job
	for _, j := range jobs {
		if done, success := finished(j); done && j.GetMetadata().GetDeletionTimestamp() == nil {
			if success {
				ok = append(ok, j)
			} else {
				failed = append(failed, j)
			}
		}
	}
	var errs []error
	for _, set := range []struct {
		jobs  []*batchv1.Job
		limit int32
	}{{ok, cj.GetSpec().GetSuccessfulJobsHistoryLimit()}, {failed, cj.GetSpec().GetFailedJobsHistoryLimit()}} {
		if int32(len(set.jobs)) <= set.limit {
			continue
		}
		sort.Slice(set.jobs, func(i, k int) bool { return older(set.jobs[i], set.jobs[k]) })
		policy := "Background"
		for _, j := range set.jobs[:int32(len(set.jobs))-set.limit] {
			m := j.GetMetadata()
			_, err := c.cs.Jobs().Delete(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(), PropagationPolicy: &policy})
			if err != nil && status.Code(err) != codes.NotFound {
				errs = append(errs, err)
				continue
			}
			c.events.Eventf(ref(cj), record.Normal, "SawCompletedJob", "Deleted job %s beyond the history limit", m.GetName())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cronjob %s: history: %w", cj.GetMetadata().GetName(), err)
	}
	return nil
}

func (c *Controller) writeStatus(ctx context.Context, cj *batchv1.CronJob, st *batchv1.CronJobStatus) error {
	if proto.Equal(st, cj.GetStatus()) || (len(st.GetActive()) == 0 && st.LastScheduleTime == nil && st.LastSuccessfulTime == nil && cj.GetStatus() == nil) {
		return nil
	}
	upd := proto.Clone(cj).(*batchv1.CronJob)
	upd.Status = st
	if _, err := c.cs.CronJobs().UpdateStatus(ctx, upd); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("cronjob %s: update status: %w", cj.GetMetadata().GetName(), err)
	}
	return nil
}

// older orders Jobs by their schedule time (a creation timestamp has only
// whole seconds, and two Jobs may be made within one), then creation, then
// name.
func older(a, b *batchv1.Job) bool {
	ta, tb := startedFor(a), startedFor(b)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.GetMetadata().GetName() < b.GetMetadata().GetName()
}

// startedFor is the schedule time a Job was started for, or its creation
// for a Job started by hand.
func startedFor(j *batchv1.Job) time.Time {
	if t, err := time.Parse(time.RFC3339, j.GetMetadata().GetAnnotations()[cronjobs.ScheduledAnnotation]); err == nil {
		return t
	}
	return j.GetMetadata().GetCreationTimestamp().AsTime()
}
