package deployment

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func statusController(t *testing.T) *Controller {
	t.Helper()
	m, err := controller.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	c := &Controller{log: zap.NewNop()}
	if c.Loop, err = controller.NewLoop(Name, nil, m, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	return c
}

// A Deployment whose rollout completed stays Progressing
// NewReplicaSetAvailable when a pod stops being available, and never
// times out for it: there is no rollout in progress.
func TestCompleteDeploymentKeepsProgressingThroughAvailabilityDip(t *testing.T) {
	c := statusController(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := timestamppb.New(t0)
	d := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "d", Generation: 1},
		Spec:     &appsv1.DeploymentSpec{Replicas: proto.Int32(3), ProgressDeadlineSeconds: proto.Int32(600)},
		Status: &appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []*appsv1.DeploymentCondition{
				{Type: Available, Status: "True", Reason: ReasonMinimumAvailable, Message: "Deployment has minimum availability.", LastUpdateTime: ts, LastTransitionTime: ts},
				{Type: Progressing, Status: "True", Reason: ReasonNewRSAvailable, Message: `ReplicaSet "d-abc" has successfully progressed.`, LastUpdateTime: ts, LastTransitionTime: ts},
			}},
	}
	// One of the three pods crashed: ready and available dip to 2.
	newRS := &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "d-abc", Generation: 1},
		Status: &appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}}
	for _, after := range []time.Duration{time.Second, 700 * time.Second} {
		st := c.computeStatus(d, newRS, []*appsv1.ReplicaSet{newRS}, t0.Add(after))
		p := condition(st.GetConditions(), Progressing)
		if p.GetStatus() != "True" || p.GetReason() != ReasonNewRSAvailable {
			t.Fatalf("%v after the dip: Progressing = %s %s, want True %s", after, p.GetStatus(), p.GetReason(), ReasonNewRSAvailable)
		}
		if st.GetAvailableReplicas() != 2 || st.GetUnavailableReplicas() != 1 {
			t.Fatalf("counts = %d available, %d unavailable; want 2, 1", st.GetAvailableReplicas(), st.GetUnavailableReplicas())
		}
		d.Status = st
	}
	// A new template is a rollout again: a new ReplicaSet with 0 of 3.
	rs2 := &appsv1.ReplicaSet{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "d-def", Generation: 1},
		Status: &appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: 1}}
	d.Metadata.Generation = 2
	st := c.computeStatus(d, rs2, []*appsv1.ReplicaSet{newRS, rs2}, t0.Add(800*time.Second))
	if p := condition(st.GetConditions(), Progressing); p.GetReason() != ReasonRSUpdated {
		t.Fatalf("a new rollout: Progressing reason %s, want %s", p.GetReason(), ReasonRSUpdated)
	}
}
