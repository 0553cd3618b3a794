package defaults

import (
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Labels the API server puts on a job's pods when it generates the selector.
const (
	ControllerUIDLabel       = "batch.kubernetes.io/controller-uid"
	JobNameLabel             = "batch.kubernetes.io/job-name"
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"
)

func replicaSet(rs *appsv1.ReplicaSet) {
	s := rs.GetSpec()
	if s == nil {
		return
	}
	if s.Replicas == nil {
		s.Replicas = proto.Int32(1)
	}
	template(s.GetTemplate())
}

func deployment(d *appsv1.Deployment) {
	s := d.GetSpec()
	if s == nil {
		return
	}
	if s.Replicas == nil {
		s.Replicas = proto.Int32(1)
	}
	if s.Strategy == nil {
		s.Strategy = &appsv1.DeploymentStrategy{}
	}
	setString(&s.Strategy.Type, "RollingUpdate")
	if s.Strategy.Type == "RollingUpdate" {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable.GetKind() == nil {
			ru.MaxUnavailable = structpb.NewStringValue("25%")
		}
		if ru.MaxSurge.GetKind() == nil {
			ru.MaxSurge = structpb.NewStringValue("25%")
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = proto.Int32(10)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = proto.Int32(600)
	}
	template(s.GetTemplate())
}

// job fills a job's counts and, once the job has a uid and no manual
// selector, generates its selector and the matching template labels.
func job(j *batchv1.Job) {
	s := j.GetSpec()
	if s == nil {
		return
	}
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = proto.Int32(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = proto.Int32(1)
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = proto.Int32(6)
	}
	if s.CompletionMode == nil {
		s.CompletionMode = proto.String("NonIndexed")
	}
	if s.Suspend == nil {
		s.Suspend = proto.Bool(false)
	}
	if s.ManualSelector == nil {
		s.ManualSelector = proto.Bool(false)
	}
	if uid := j.GetMetadata().GetUid(); uid != "" && !s.GetManualSelector() && s.Template != nil {
		generateSelector(j.GetMetadata().GetName(), uid, s)
	}
	template(s.GetTemplate())
}

func generateSelector(name, uid string, s *batchv1.JobSpec) {
	if s.Template.Metadata == nil {
		s.Template.Metadata = &metav1.ObjectMeta{}
	}
	l := s.Template.Metadata.Labels
	if l == nil {
		l = map[string]string{}
		s.Template.Metadata.Labels = l
	}
	for _, k := range []string{ControllerUIDLabel, legacyControllerUIDLabel} {
		if _, ok := l[k]; !ok {
			l[k] = uid
		}
	}
	for _, k := range []string{JobNameLabel, legacyJobNameLabel} {
		if _, ok := l[k]; !ok {
			l[k] = name
		}
	}
	if s.Selector == nil {
		s.Selector = &metav1.LabelSelector{}
	}
	if s.Selector.MatchLabels == nil {
		s.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := s.Selector.MatchLabels[ControllerUIDLabel]; !ok {
		s.Selector.MatchLabels[ControllerUIDLabel] = uid
	}
}

func cronJob(cj *batchv1.CronJob) {
	s := cj.GetSpec()
	if s == nil {
		return
	}
	setString(&s.ConcurrencyPolicy, "Allow")
	if s.Suspend == nil {
		s.Suspend = proto.Bool(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = proto.Int32(3)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = proto.Int32(1)
	}
	template(s.GetJobTemplate().GetSpec().GetTemplate())
}
