package integration

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cronjobs "github.com/tugboat-sh/tugboat/client/cronjob"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	kubeletapp "github.com/tugboat-sh/tugboat/services/kubelet/app"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestCronJobOnAFakeClock runs an @hourly CronJob on a controller-manager
// whose clock is ahead of the real one: each hour the clock moves starts
// one Job named after its schedule time, and the history limit keeps only
// the latest finished one; deleting the CronJob collects its Jobs and pods.
func TestCronJobOnAFakeClock(t *testing.T) {
	var ahead atomic.Int64 // nanoseconds the fake clock is ahead
	ahead.Store(int64(61 * time.Minute))
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	c := startWorkloadCluster(t, 2, func(cfg *app.Config) {
		cfg.Now = now
		cfg.Controllers = []string{"cronjob", "job", "garbagecollector"}
	},
		harness.WithRelistPeriod(200*time.Millisecond),
		harness.WithKubeletConfig(func(c *kubeletapp.Config) {
			c.HollowBehaviors = map[string]fakeruntime.Behavior{succeedImage: {Exit: true, ExitAfter: 100 * time.Millisecond}}
		}))
	ctx := harness.Context(t, 3*waitTimeout)
	cj := &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "tick"},
		Spec: &batchv1.CronJobSpec{
			Schedule: "@hourly", ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: proto.Int32(1),
			JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{
				Spec: &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "tick", Image: succeedImage}}},
			}}},
		},
	}
	if _, err := c.api.Client.CronJobs().Create(ctx, cj); err != nil {
		t.Fatal(err)
	}
	jobNames := func() []string {
		l, err := c.api.Client.Jobs().List(ctx, &metav1.ListOptions{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range l.GetItems() {
			out = append(out, j.GetMetadata().GetName())
		}
		return out
	}
	hour := func() string { return fmt.Sprintf("tick-%d", now().Truncate(time.Hour).Unix()/60) }
	first := hour()
	harness.Poll(t, waitTimeout, "job "+first+" completes and the cronjob records it", func() (bool, string) {
		got, err := c.api.Client.CronJobs().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "tick"})
		if err != nil {
			return false, err.Error()
		}
		st := got.GetStatus()
		names := jobNames()
		return len(names) == 1 && names[0] == first && st.GetLastSuccessfulTime() != nil && len(st.GetActive()) == 0 &&
			st.GetLastScheduleTime().AsTime().Equal(now().Truncate(time.Hour)), fmt.Sprintf("jobs %v, status %v", names, st)
	})

	ahead.Add(int64(time.Hour))
	second := hour()
	// The controller requeues for the next hour on the real clock: nudge it.
	got, _ := c.api.Client.CronJobs().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "tick"})
	got.Metadata.Annotations = map[string]string{"nudge": "1"}
	if _, err := c.api.Client.CronJobs().Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "job "+second+" replaces "+first+" in the history", func() (bool, string) {
		names := jobNames()
		got, _ := c.api.Client.CronJobs().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "tick"})
		return len(names) == 1 && names[0] == second, fmt.Sprintf("jobs %v, cronjob status %v", names, got.GetStatus())
	})

	// A run by hand (create job --from=cronjob/tick) is owned by it too.
	// (Its creation time is on the real clock, behind the fake schedule
	// times, so the history limit may take it as the oldest: not waited on.)
	manual, err := cronjobs.CreateJob(ctx, c.api.Client, "default", "tick", "tick-manual")
	if err != nil || manual.GetMetadata().GetOwnerReferences()[0].GetName() != "tick" {
		t.Fatalf("CreateJob = %v, %v; want a job owned by the cronjob", manual.GetMetadata(), err)
	}
	if _, err := cronjobs.CreateJob(ctx, c.api.Client, "default", "nothere", "x"); status.Code(err) != codes.NotFound {
		t.Fatalf("CreateJob from a missing cronjob = %v, want NotFound", err)
	}

	// Deleting the CronJob collects its Jobs and their pods.
	if _, err := c.api.Client.CronJobs().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: "tick"}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "the cronjob's jobs and pods are collected", func() (bool, string) {
		pods, err := c.api.Client.Pods().List(ctx, &metav1.ListOptions{Namespace: "default"})
		if err != nil {
			return false, err.Error()
		}
		names := jobNames()
		return len(names) == 0 && len(pods.GetItems()) == 0, fmt.Sprintf("jobs %v, %d pods", names, len(pods.GetItems()))
	})
}

// TestCronJobBadSchedule: an invalid schedule or time zone is refused
// naming the field, and nothing is stored.
func TestCronJobBadSchedule(t *testing.T) {
	api := harness.StartAPIServer(t)
	ctx := harness.Context(t, waitTimeout)
	for _, tc := range []struct{ schedule, tz, field string }{
		{"61 * * * *", "", "spec.schedule"},
		{"@fortnightly", "", "spec.schedule"},
		{"@hourly", "Mars/Olympus", "spec.timeZone"},
	} {
		cj := &batchv1.CronJob{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "bad"},
			Spec: &batchv1.CronJobSpec{Schedule: tc.schedule, JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{
				Spec: &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "x", Image: hollowImage}}},
			}}}},
		}
		if tc.tz != "" {
			cj.Spec.TimeZone = proto.String(tc.tz)
		}
		_, err := api.Client.CronJobs().Create(ctx, cj)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.field) {
			t.Errorf("schedule %q tz %q: %v, want InvalidArgument naming %s", tc.schedule, tc.tz, err, tc.field)
		}
	}
	if l, err := api.Client.CronJobs().List(ctx, &metav1.ListOptions{Namespace: "default"}); err != nil || len(l.GetItems()) != 0 {
		t.Fatalf("cronjobs after refused creates: %v, %v", l.GetItems(), err)
	}
}
