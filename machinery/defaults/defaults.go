// Package defaults fills in the fields Kubernetes defaults when an object is
// written: restart and DNS policies of pods, probe timings, service types,
// deployment strategies, job counts and so on. Apply changes the object in
// place and never overwrites a value the user gave.
package defaults

import (
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/protobuf/proto"
)

// Apply fills the defaults of obj in place. Kinds without defaults are left
// unchanged. It is idempotent.
func Apply(obj proto.Message) {
	switch o := obj.(type) {
	case *corev1.Pod:
		pod(o)
	case *corev1.Service:
		service(o)
	case *corev1.Endpoints:
		endpoints(o)
	case *corev1.Secret:
		secret(o)
	case *corev1.Namespace:
		namespace(o)
	case *corev1.Node:
		node(o)
	case *appsv1.ReplicaSet:
		replicaSet(o)
	case *appsv1.Deployment:
		deployment(o)
	case *batchv1.Job:
		job(o)
	case *batchv1.CronJob:
		cronJob(o)
	case *rbacv1.RoleBinding:
		subjects(o.GetSubjects())
	case *rbacv1.ClusterRoleBinding:
		subjects(o.GetSubjects())
	}
}
