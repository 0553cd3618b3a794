package defaults

import (
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func podTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "nginx"}}},
	}
}

func TestDeployment(t *testing.T) {
	d := &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Template: podTemplate()}}
	Apply(d)
	s := d.Spec
	expect(t, "replicas", s.GetReplicas(), 1)
	expect(t, "strategy.type", s.GetStrategy().GetType(), "RollingUpdate")
	expect(t, "maxUnavailable", s.GetStrategy().GetRollingUpdate().GetMaxUnavailable().GetStringValue(), "25%")
	expect(t, "maxSurge", s.GetStrategy().GetRollingUpdate().GetMaxSurge().GetStringValue(), "25%")
	expect(t, "revisionHistoryLimit", s.GetRevisionHistoryLimit(), 10)
	expect(t, "progressDeadlineSeconds", s.GetProgressDeadlineSeconds(), 600)
	expect(t, "template restartPolicy", s.Template.Spec.RestartPolicy, "Always")
	expect(t, "template imagePullPolicy", s.Template.Spec.Containers[0].ImagePullPolicy, "Always")

	explicit := &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
		Replicas: proto.Int32(0), RevisionHistoryLimit: proto.Int32(0), ProgressDeadlineSeconds: proto.Int32(60),
		Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: structpb.NewNumberValue(0)}},
	}}
	Apply(explicit)
	s = explicit.Spec
	expect(t, "replicas (explicit)", s.GetReplicas(), 0)
	expect(t, "revisionHistoryLimit (explicit)", s.GetRevisionHistoryLimit(), 0)
	expect(t, "progressDeadlineSeconds (explicit)", s.GetProgressDeadlineSeconds(), 60)
	expect(t, "maxSurge (explicit)", s.Strategy.RollingUpdate.MaxSurge.GetNumberValue(), 0)
	expect(t, "maxUnavailable", s.Strategy.RollingUpdate.MaxUnavailable.GetStringValue(), "25%")

	recreate := &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Strategy: &appsv1.DeploymentStrategy{Type: "Recreate"}}}
	Apply(recreate)
	expect(t, "recreate rollingUpdate", recreate.Spec.Strategy.RollingUpdate == nil, true)
}

func TestReplicaSet(t *testing.T) {
	rs := &appsv1.ReplicaSet{Spec: &appsv1.ReplicaSetSpec{Template: podTemplate()}}
	Apply(rs)
	expect(t, "replicas", rs.Spec.GetReplicas(), 1)
	expect(t, "template dnsPolicy", rs.Spec.Template.Spec.DnsPolicy, "ClusterFirst")
	zero := &appsv1.ReplicaSet{Spec: &appsv1.ReplicaSetSpec{Replicas: proto.Int32(0)}}
	Apply(zero)
	expect(t, "replicas (explicit)", zero.Spec.GetReplicas(), 0)
}

func TestJob(t *testing.T) {
	tests := []struct {
		name                     string
		parallelism, completions *int32
		wantP                    int32
		wantC                    *int32
	}{
		{"neither set", nil, nil, 1, proto.Int32(1)},
		{"parallelism set", proto.Int32(3), nil, 3, nil},
		{"completions set", nil, proto.Int32(5), 1, proto.Int32(5)},
		{"both set", proto.Int32(2), proto.Int32(4), 2, proto.Int32(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &batchv1.Job{Spec: &batchv1.JobSpec{Parallelism: tt.parallelism, Completions: tt.completions, Template: podTemplate()}}
			Apply(j)
			s := j.Spec
			expect(t, "parallelism", s.GetParallelism(), tt.wantP)
			expect(t, "completions set", s.Completions != nil, tt.wantC != nil)
			if tt.wantC != nil {
				expect(t, "completions", s.GetCompletions(), *tt.wantC)
			}
			expect(t, "backoffLimit", s.GetBackoffLimit(), 6)
			expect(t, "completionMode", s.GetCompletionMode(), "NonIndexed")
			expect(t, "suspend", s.Suspend != nil && !*s.Suspend, true)
			expect(t, "manualSelector", s.ManualSelector != nil && !*s.ManualSelector, true)
			expect(t, "selector without uid", s.Selector == nil, true)
		})
	}
}

func TestJobSelector(t *testing.T) {
	j := &batchv1.Job{Metadata: &metav1.ObjectMeta{Name: "pi", Uid: "1234"}, Spec: &batchv1.JobSpec{Template: podTemplate(),
		BackoffLimit: proto.Int32(0), Suspend: proto.Bool(true)}}
	Apply(j)
	s := j.Spec
	expect(t, "selector", s.GetSelector().GetMatchLabels()[ControllerUIDLabel], "1234")
	expect(t, "selector size", len(s.GetSelector().GetMatchLabels()), 1)
	l := s.Template.Metadata.Labels
	expect(t, "template controller-uid", l[ControllerUIDLabel], "1234")
	expect(t, "template job-name", l[JobNameLabel], "pi")
	expect(t, "template legacy controller-uid", l["controller-uid"], "1234")
	expect(t, "template legacy job-name", l["job-name"], "pi")
	expect(t, "template app (kept)", l["app"], "web")
	expect(t, "backoffLimit (explicit)", s.GetBackoffLimit(), 0)
	expect(t, "suspend (explicit)", s.GetSuspend(), true)

	manual := &batchv1.Job{Metadata: &metav1.ObjectMeta{Name: "pi", Uid: "1234"}, Spec: &batchv1.JobSpec{
		ManualSelector: proto.Bool(true), Template: podTemplate()}}
	Apply(manual)
	expect(t, "manual selector", manual.Spec.Selector == nil, true)
	expect(t, "manual template labels", len(manual.Spec.Template.Metadata.Labels), 1)
}

func TestCronJob(t *testing.T) {
	cj := &batchv1.CronJob{Spec: &batchv1.CronJobSpec{Schedule: "@hourly",
		JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{Template: podTemplate()}}}}
	Apply(cj)
	s := cj.Spec
	expect(t, "concurrencyPolicy", s.ConcurrencyPolicy, "Allow")
	expect(t, "suspend", s.Suspend != nil && !*s.Suspend, true)
	expect(t, "successfulJobsHistoryLimit", s.GetSuccessfulJobsHistoryLimit(), 3)
	expect(t, "failedJobsHistoryLimit", s.GetFailedJobsHistoryLimit(), 1)
	expect(t, "job template restartPolicy", s.JobTemplate.Spec.Template.Spec.RestartPolicy, "Always")

	explicit := &batchv1.CronJob{Spec: &batchv1.CronJobSpec{ConcurrencyPolicy: "Forbid",
		SuccessfulJobsHistoryLimit: proto.Int32(0), FailedJobsHistoryLimit: proto.Int32(0)}}
	Apply(explicit)
	expect(t, "concurrencyPolicy (explicit)", explicit.Spec.ConcurrencyPolicy, "Forbid")
	expect(t, "successfulJobsHistoryLimit (explicit)", explicit.Spec.GetSuccessfulJobsHistoryLimit(), 0)
	expect(t, "failedJobsHistoryLimit (explicit)", explicit.Spec.GetFailedJobsHistoryLimit(), 0)
}
