package rollout

import (
	"errors"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestStatus(t *testing.T) {
	dep := func(gen, observed int32, st *appsv1.DeploymentStatus) *appsv1.Deployment {
		st.ObservedGeneration = observed
		return &appsv1.Deployment{
			Metadata: &metav1.ObjectMeta{Name: "web", Generation: gen, Annotations: map[string]string{RevisionAnnotation: "2"}},
			Spec:     &appsv1.DeploymentSpec{Replicas: proto.Int32(3)},
			Status:   st,
		}
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		rev  int64
		msg  string
		done bool
		err  error
	}{
		{"not observed", dep(2, 1, &appsv1.DeploymentStatus{}), 0, "Waiting for deployment spec update to be observed...", false, nil},
		{"updating", dep(1, 1, &appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1}), 0,
			`Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false, nil},
		{"old pending", dep(1, 1, &appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3}), 0,
			`Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`, false, nil},
		{"unavailable", dep(1, 1, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 1}), 0,
			`Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...`, false, nil},
		{"done", dep(1, 1, &appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), 2,
			`deployment "web" successfully rolled out`, true, nil},
		{"deadline", dep(1, 1, &appsv1.DeploymentStatus{Conditions: []*appsv1.DeploymentCondition{{Type: "Progressing", Status: "False", Reason: TimedOutReason}}}), 0,
			"", false, ErrDeadlineExceeded},
		{"other revision", dep(1, 1, &appsv1.DeploymentStatus{}), 1, "", false, ErrRevisionChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, done, err := Status(tc.d, tc.rev)
			if msg != tc.msg || done != tc.done || !errors.Is(err, tc.err) {
				t.Fatalf("Status = %q, %v, %v; want %q, %v, %v", msg, done, err, tc.msg, tc.done, tc.err)
			}
		})
	}
}
