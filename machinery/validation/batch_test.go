package validation

import (
	"strings"
	"testing"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func validJob() *batchv1.Job {
	return &batchv1.Job{Metadata: objectMeta("pi"), Spec: &batchv1.JobSpec{
		Completions: proto.Int32(5), Parallelism: proto.Int32(2), BackoffLimit: proto.Int32(4),
		Template: podTemplateSpec(nil, "Never"),
	}}
}

func TestJob(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []fe
	}{
		{"valid", func(*batchv1.Job) {}, nil},
		{"valid manual selector", func(j *batchv1.Job) {
			j.Spec.ManualSelector = proto.Bool(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: webLabels}
			j.Spec.Template.Metadata.Labels = webLabels
			j.Spec.Template.Spec.RestartPolicy = "OnFailure"
			j.Spec.CompletionMode = proto.String("Indexed")
			j.Spec.ActiveDeadlineSeconds = proto.Int32(60)
		}, nil},
		{"no spec", func(j *batchv1.Job) { j.Spec = nil }, []fe{{"spec", Required}}},
		{"negative counts", func(j *batchv1.Job) {
			j.Spec.Parallelism, j.Spec.Completions, j.Spec.BackoffLimit = proto.Int32(-1), proto.Int32(-1), proto.Int32(-1)
			j.Spec.ActiveDeadlineSeconds, j.Spec.TtlSecondsAfterFinished = proto.Int32(0), proto.Int32(-1)
		}, []fe{{"spec.parallelism", Invalid}, {"spec.completions", Invalid}, {"spec.backoffLimit", Invalid},
			{"spec.activeDeadlineSeconds", Invalid}, {"spec.ttlSecondsAfterFinished", Invalid}}},
		{"restart policy missing", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" }, []fe{{"spec.template.spec.restartPolicy", Required}}},
		{"restart policy Always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "Always" }, []fe{{"spec.template.spec.restartPolicy", NotSupported}}},
		{"manual selector missing", func(j *batchv1.Job) { j.Spec.ManualSelector = proto.Bool(true) }, []fe{{"spec.selector", Required}}},
		{"selector does not match", func(j *batchv1.Job) { j.Spec.Selector = &metav1.LabelSelector{MatchLabels: webLabels} },
			[]fe{{"spec.template.metadata.labels", Invalid}}},
		{"bad completion mode", func(j *batchv1.Job) { j.Spec.CompletionMode = proto.String("Sometimes") }, []fe{{"spec.completionMode", NotSupported}}},
		{"indexed without completions", func(j *batchv1.Job) {
			j.Spec.CompletionMode, j.Spec.Completions = proto.String("Indexed"), nil
		}, []fe{{"spec.completions", Required}}},
		{"no template", func(j *batchv1.Job) { j.Spec.Template = nil }, []fe{{"spec.template", Required}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob()
			tt.mutate(j)
			assertErrors(t, Validate(j), tt.want...)
		})
	}
}

func TestCronJob(t *testing.T) {
	valid := func() *batchv1.CronJob {
		return &batchv1.CronJob{Metadata: objectMeta("nightly"), Spec: &batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: &batchv1.JobTemplateSpec{Spec: validJob().Spec},
		}}
	}
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []fe
	}{
		{"valid", func(*batchv1.CronJob) {}, nil},
		{"valid with options", func(c *batchv1.CronJob) {
			c.Spec.Schedule = "0 3 * JAN-MAR MON,FRI"
			c.Spec.TimeZone = proto.String("Europe/Kyiv")
			c.Spec.ConcurrencyPolicy = "Forbid"
			c.Spec.StartingDeadlineSeconds = proto.Int32(100)
			c.Spec.SuccessfulJobsHistoryLimit, c.Spec.FailedJobsHistoryLimit = proto.Int32(0), proto.Int32(0)
		}, nil},
		{"descriptor", func(c *batchv1.CronJob) { c.Spec.Schedule = "@weekly" }, nil},
		{"list and range", func(c *batchv1.CronJob) { c.Spec.Schedule = "0,30 8-18/2 1-15 * 1-5" }, nil},
		{"no schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, []fe{{"spec.schedule", Required}}},
		{"bad schedules", func(c *batchv1.CronJob) { c.Spec.Schedule = "61 * * * *" }, []fe{{"spec.schedule", Invalid}}},
		{"six fields", func(c *batchv1.CronJob) { c.Spec.Schedule = "0 0 * * * *" }, []fe{{"spec.schedule", Invalid}}},
		{"bad descriptor", func(c *batchv1.CronJob) { c.Spec.Schedule = "@fortnightly" }, []fe{{"spec.schedule", Invalid}}},
		{"TZ in schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" }, []fe{{"spec.schedule", Invalid}}},
		{"bad time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = proto.String("Mars/Olympus") }, []fe{{"spec.timeZone", Invalid}}},
		{"local time zone", func(c *batchv1.CronJob) { c.Spec.TimeZone = proto.String("Local") }, []fe{{"spec.timeZone", Invalid}}},
		{"bad policy and limits", func(c *batchv1.CronJob) {
			c.Spec.ConcurrencyPolicy = "Queue"
			c.Spec.StartingDeadlineSeconds = proto.Int32(-1)
			c.Spec.SuccessfulJobsHistoryLimit, c.Spec.FailedJobsHistoryLimit = proto.Int32(-1), proto.Int32(-1)
		}, []fe{{"spec.concurrencyPolicy", NotSupported}, {"spec.startingDeadlineSeconds", Invalid},
			{"spec.successfulJobsHistoryLimit", Invalid}, {"spec.failedJobsHistoryLimit", Invalid}}},
		{"no job template", func(c *batchv1.CronJob) { c.Spec.JobTemplate = nil }, []fe{{"spec.jobTemplate", Required}}},
		{"job template checked", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = ""
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = "Always"
			c.Spec.JobTemplate.Metadata = &metav1.ObjectMeta{Labels: map[string]string{"a": "b c"}}
		}, []fe{{"spec.jobTemplate.spec.template.spec.containers[0].image", Required},
			{"spec.jobTemplate.spec.template.spec.restartPolicy", NotSupported}, {"spec.jobTemplate.metadata.labels", Invalid}}},
		{"long name", func(c *batchv1.CronJob) { c.Metadata.Name = strings.Repeat("a", 53) }, []fe{{"metadata.name", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(c)
			assertErrors(t, Validate(c), tt.want...)
		})
	}
}
