package printer

import (
	"fmt"
	"strings"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/duration"
)

func leaseRow(obj proto.Message, now time.Time) ([]string, []string) {
	l := obj.(*coordinationv1.Lease)
	return []string{l.GetMetadata().GetName(), l.GetSpec().GetHolderIdentity(), Age(l.GetMetadata().GetCreationTimestamp(), now)}, nil
}

// templateWide is CONTAINERS, IMAGES and SELECTOR of a workload.
func templateWide(t *corev1.PodTemplateSpec, sel *metav1.LabelSelector) []string {
	var names, images []string
	for _, c := range t.GetSpec().GetContainers() {
		names = append(names, c.GetName())
		images = append(images, c.GetImage())
	}
	s := "<none>"
	if sel != nil {
		if ls, err := selector.FromLabelSelector(sel); err == nil {
			s = ls.String()
		}
	}
	return []string{strings.Join(names, ","), strings.Join(images, ","), s}
}

func replicaSetRow(obj proto.Message, now time.Time) ([]string, []string) {
	rs := obj.(*appsv1.ReplicaSet)
	want := int32(1)
	if rs.GetSpec().Replicas != nil {
		want = rs.GetSpec().GetReplicas()
	}
	st := rs.GetStatus()
	return []string{rs.GetMetadata().GetName(), fmt.Sprint(want), fmt.Sprint(st.GetReplicas()), fmt.Sprint(st.GetReadyReplicas()), Age(rs.GetMetadata().GetCreationTimestamp(), now)},
		templateWide(rs.GetSpec().GetTemplate(), rs.GetSpec().GetSelector())
}

func deploymentRow(obj proto.Message, now time.Time) ([]string, []string) {
	d := obj.(*appsv1.Deployment)
	want := int32(1)
	if d.GetSpec().Replicas != nil {
		want = d.GetSpec().GetReplicas()
	}
	st := d.GetStatus()
	return []string{d.GetMetadata().GetName(), fmt.Sprintf("%d/%d", st.GetReadyReplicas(), want), fmt.Sprint(st.GetUpdatedReplicas()), fmt.Sprint(st.GetAvailableReplicas()), Age(d.GetMetadata().GetCreationTimestamp(), now)},
		templateWide(d.GetSpec().GetTemplate(), d.GetSpec().GetSelector())
}

func jobRow(obj proto.Message, now time.Time) ([]string, []string) {
	j := obj.(*batchv1.Job)
	st := j.GetStatus()
	completions := fmt.Sprintf("%d/%d", st.GetSucceeded(), j.GetSpec().GetCompletions())
	if j.GetSpec().Completions == nil {
		completions = fmt.Sprintf("%d/1 of %d", st.GetSucceeded(), j.GetSpec().GetParallelism())
		if j.GetSpec().GetParallelism() <= 1 {
			completions = fmt.Sprintf("%d/1", st.GetSucceeded())
		}
	}
	status := jobStatus(j)
	dur := ""
	if start := st.GetStartTime(); start != nil {
		end := now
		if st.GetCompletionTime() != nil {
			end = st.GetCompletionTime().AsTime()
		}
		dur = duration.HumanDuration(end.Sub(start.AsTime()))
	}
	return []string{j.GetMetadata().GetName(), status, completions, dur, Age(j.GetMetadata().GetCreationTimestamp(), now)},
		templateWide(j.GetSpec().GetTemplate(), j.GetSpec().GetSelector())
}

func cronJobRow(obj proto.Message, now time.Time) ([]string, []string) {
	c := obj.(*batchv1.CronJob)
	last := "<none>"
	if t := c.GetStatus().GetLastScheduleTime(); t != nil {
		last = Age(t, now)
	}
	tz := "<none>"
	if c.GetSpec().TimeZone != nil {
		tz = c.GetSpec().GetTimeZone()
	}
	jt := c.GetSpec().GetJobTemplate().GetSpec()
	return []string{c.GetMetadata().GetName(), c.GetSpec().GetSchedule(), tz, suspend(c.GetSpec()), fmt.Sprint(len(c.GetStatus().GetActive())), last, Age(c.GetMetadata().GetCreationTimestamp(), now)},
		templateWide(jt.GetTemplate(), jt.GetSelector())
}

// suspend is a CronJob's SUSPEND as kubectl prints it: True, False, or
// <unset> (the apiserver defaults it to false).
func suspend(s *batchv1.CronJobSpec) string {
	switch {
	case s.Suspend == nil:
		return "<unset>"
	case s.GetSuspend():
		return "True"
	}
	return "False"
}

// jobStatus is a Job's STATUS as kubectl 1.30 prints it: the first of
// Complete, Failed, Terminating (being deleted), Suspended,
// FailureTarget and SuccessCriteriaMet that holds, else Running.
func jobStatus(j *batchv1.Job) string {
	has := func(t string) bool {
		for _, c := range j.GetStatus().GetConditions() {
			if c.GetType() == t && c.GetStatus() == "True" {
				return true
			}
		}
		return false
	}
	switch {
	case has("Complete"):
		return "Complete"
	case has("Failed"):
		return "Failed"
	case j.GetMetadata().GetDeletionTimestamp() != nil:
		return "Terminating"
	case has("Suspended"):
		return "Suspended"
	case has("FailureTarget"):
		return "FailureTarget"
	case has("SuccessCriteriaMet"):
		return "SuccessCriteriaMet"
	}
	return "Running"
}
