package deployment

import (
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestFenceposts(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		replicas                   int32
		surge, unavailable         *structpb.Value
		wantSurge, wantUnavailable int32
	}{
		{"defaults 25% of 10: surge up, unavailable down", 10, nil, nil, 3, 2},
		{"defaults 25% of 1000", 1000, nil, nil, 250, 250},
		{"ints", 10, structpb.NewNumberValue(3), structpb.NewNumberValue(1), 3, 1},
		{"int strings", 10, structpb.NewStringValue("4"), structpb.NewStringValue("0"), 4, 0},
		{"both zero: one unavailable", 4, structpb.NewNumberValue(0), structpb.NewStringValue("0%"), 0, 1},
		{"percent of 3", 3, structpb.NewStringValue("50%"), structpb.NewStringValue("50%"), 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Replicas: proto.Int32(tc.replicas),
				Strategy: &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: tc.surge, MaxUnavailable: tc.unavailable}}}}
			s, u, err := Fenceposts(d)
			if err != nil || s != tc.wantSurge || u != tc.wantUnavailable {
				t.Fatalf("Fenceposts = %d, %d, %v; want %d, %d", s, u, err, tc.wantSurge, tc.wantUnavailable)
			}
		})
	}
	bad := &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Replicas: proto.Int32(3), Strategy: &appsv1.DeploymentStrategy{
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: structpb.NewStringValue("lots")}}}}
	if _, _, err := Fenceposts(bad); err == nil {
		t.Fatal(`maxSurge "lots" resolved`)
	}
}

func TestNewReplicas(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		replicas, surge, total, current int32
		want                            int32
	}{
		{"fresh rollout: surge room", 10, 3, 10, 0, 3},
		{"no room until old pods go", 10, 3, 13, 3, 3},
		{"room for two", 10, 3, 11, 3, 5},
		{"capped at replicas", 10, 3, 10, 9, 10},
		{"scaled down", 5, 1, 10, 10, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewReplicas(tc.replicas, tc.surge, tc.total, tc.current); got != tc.want {
				t.Fatalf("NewReplicas(%d, %d, %d, %d) = %d, want %d", tc.replicas, tc.surge, tc.total, tc.current, got, tc.want)
			}
		})
	}
}

func rs(spec, status, available int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		Metadata: &metav1.ObjectMeta{Uid: "u"},
		Spec:     &appsv1.ReplicaSetSpec{Replicas: proto.Int32(spec)},
		Status:   &appsv1.ReplicaSetStatus{Replicas: status, AvailableReplicas: available},
	}
}

func TestBudgetAndTotals(t *testing.T) {
	// 10 replicas, maxUnavailable 2: the new ReplicaSet has 3 pods, 1
	// available; the old one 9, all available.
	newRS, old := rs(3, 3, 1), rs(9, 9, 9)
	all := []*appsv1.ReplicaSet{old, newRS}
	if got := ScaleDownBudget(10, 2, all, newRS); got != 12-8-2 {
		t.Fatalf("ScaleDownBudget = %d, want %d", got, 12-8-2)
	}
	// An old ReplicaSet scaled to 5 whose pods are not gone yet.
	shrinking := rs(5, 8, 8)
	if got := podTotal([]*appsv1.ReplicaSet{shrinking, newRS}); got != 11 {
		t.Fatalf("podTotal = %d, want 11: the 8 pods still there count", got)
	}
	if got := availableOf(shrinking); got != 5 {
		t.Fatalf("availableOf = %d, want 5: it is about to delete 3", got)
	}
}

func TestHash(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "i:1"}}}}
	h := Hash(tmpl, 0)
	labelled := proto.Clone(tmpl).(*corev1.PodTemplateSpec)
	labelled.Metadata.Labels[HashLabel] = h
	if Hash(labelled, 0) != h || !SameTemplate(tmpl, labelled) {
		t.Fatal("the pod-template-hash label changes the hash or the template")
	}
	other := proto.Clone(tmpl).(*corev1.PodTemplateSpec)
	other.Spec.Containers[0].Image = "i:2"
	if Hash(other, 0) == h || SameTemplate(tmpl, other) {
		t.Fatal("another image hashes the same")
	}
	if Hash(tmpl, 1) == h {
		t.Fatal("a collision count does not change the hash")
	}
}
