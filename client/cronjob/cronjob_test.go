package cronjob

import (
	"testing"
	"time"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestJob(t *testing.T) {
	cj := &batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "tick", Uid: "u-1"},
		Spec: &batchv1.CronJobSpec{JobTemplate: &batchv1.JobTemplateSpec{
			Metadata: &metav1.ObjectMeta{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"note": "x"}},
			Spec:     &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{RestartPolicy: "Never"}}},
		}},
	}
	at := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	j := Job(cj, "tick-123", at)
	m := j.GetMetadata()
	if m.GetName() != "tick-123" || m.GetNamespace() != "ns" || m.GetLabels()["team"] != "a" || m.GetAnnotations()["note"] != "x" ||
		m.GetAnnotations()[ScheduledAnnotation] != "2026-01-01T10:00:00Z" || j.GetSpec().GetTemplate().GetSpec().GetRestartPolicy() != "Never" {
		t.Fatalf("scheduled job = %v", j)
	}
	if r := m.GetOwnerReferences(); len(r) != 1 || r[0].GetUid() != "u-1" || !r[0].GetController() || r[0].GetKind() != "CronJob" {
		t.Fatalf("owner references = %v, want the cronjob as controller", r)
	}
	manual := Job(cj, "tick-manual", time.Time{})
	if manual.GetMetadata().GetAnnotations()[ManualAnnotation] != "manual" || manual.GetMetadata().GetAnnotations()[ScheduledAnnotation] != "" {
		t.Fatalf("manual job annotations = %v", manual.GetMetadata().GetAnnotations())
	}
	if cj.GetSpec().GetJobTemplate().GetMetadata().GetAnnotations()[ScheduledAnnotation] != "" {
		t.Fatal("Job wrote into the CronJob's template")
	}
}
