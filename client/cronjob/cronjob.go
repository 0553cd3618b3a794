// Package cronjob builds the Job a CronJob starts from its jobTemplate:
// the cronjob controller uses it for each schedule time, and `create job
// --from=cronjob/NAME` (CreateJob) for a run by hand.
package cronjob

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// Annotations of the Jobs a CronJob starts (Kubernetes' own).
const (
	// ScheduledAnnotation is the schedule time a Job was started for.
	ScheduledAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	// ManualAnnotation marks a Job started by hand ("manual").
	ManualAnnotation = "cronjob.kubernetes.io/instantiate"
)

// Job returns the Job of cj named name: the jobTemplate's labels,
// annotations and spec, owned by cj (as its controller). A non-zero
// scheduled records the schedule time; a zero one marks a run by hand.
func Job(cj *batchv1.CronJob, name string, scheduled time.Time) *batchv1.Job {
	jt := cj.GetSpec().GetJobTemplate()
	m := cj.GetMetadata()
	annotations := maps.Clone(jt.GetMetadata().GetAnnotations())
	if annotations == nil {
		annotations = map[string]string{}
	}
	if scheduled.IsZero() {
		annotations[ManualAnnotation] = "manual"
	} else {
		annotations[ScheduledAnnotation] = scheduled.UTC().Format(time.RFC3339)
	}
	return &batchv1.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &metav1.ObjectMeta{
			Name: name, Namespace: m.GetNamespace(),
			Labels:      maps.Clone(jt.GetMetadata().GetLabels()),
			Annotations: annotations,
			OwnerReferences: []*metav1.OwnerReference{{
				ApiVersion: "batch/v1", Kind: "CronJob", Name: m.GetName(), Uid: m.GetUid(),
				Controller: proto.Bool(true), BlockOwnerDeletion: proto.Bool(true),
			}},
		},
		Spec: proto.Clone(jt.GetSpec()).(*batchv1.JobSpec),
	}
}

// CreateJob starts a Job named job from the CronJob namespace/cronJob now,
// outside its schedule, and returns it as stored. A missing CronJob is
// its NotFound error, a taken name AlreadyExists, as the apiserver says.
func CreateJob(ctx context.Context, cs *clientset.Set, namespace, cronJob, job string) (*batchv1.Job, error) {
	cj, err := cs.CronJobs().Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: cronJob})
	if err != nil {
		return nil, fmt.Errorf("cronjob %s: %w", cronJob, err)
	}
	out, err := cs.Jobs().Create(ctx, Job(cj, job, time.Time{}))
	if err != nil {
		return nil, fmt.Errorf("create job %s from cronjob %s: %w", job, cronJob, err)
	}
	return out, nil
}
