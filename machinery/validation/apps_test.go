package validation

import (
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// intstr makes an int-or-string value of an int or a string.
func intstr(v any) *structpb.Value {
	if s, ok := v.(string); ok {
		return str(s)
	}
	return num(float64(v.(int)))
}

var webLabels = map[string]string{"app": "web"}

func validDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		Metadata: objectMeta("web"),
		Spec: &appsv1.DeploymentSpec{
			Replicas: proto.Int32(3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplateSpec(map[string]string{"app": "web", "tier": "front"}, ""),
		},
	}
}

func TestDeployment(t *testing.T) {
	ru := func(maxUnavailable, maxSurge any) *appsv1.DeploymentStrategy {
		s := &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		s.RollingUpdate.MaxUnavailable = intstr(maxUnavailable)
		s.RollingUpdate.MaxSurge = intstr(maxSurge)
		return s
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []fe
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"valid rolling update", func(d *appsv1.Deployment) {
			d.Spec.Strategy = ru("25%", 1)
			d.Spec.RevisionHistoryLimit = proto.Int32(0)
			d.Spec.MinReadySeconds, d.Spec.ProgressDeadlineSeconds = 10, proto.Int32(600)
			d.Spec.Template.Spec.RestartPolicy = "Always"
			d.Spec.Selector.MatchExpressions = []*metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: "In", Values: []string{"front", "back"}}, {Key: "canary", Operator: "DoesNotExist"}}
		}, nil},
		{"valid recreate", func(d *appsv1.Deployment) { d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"} }, nil},
		{"no spec", func(d *appsv1.Deployment) { d.Spec = nil }, []fe{{"spec", Required}}},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []fe{{"spec.selector", Required}}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []fe{{"spec.selector", Invalid}}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels["app"] = "db" },
			[]fe{{"spec.template.metadata.labels", Invalid}}},
		{"expression does not match", func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []*metav1.LabelSelectorRequirement{{Key: "tier", Operator: "NotIn", Values: []string{"front"}}}
		}, []fe{{"spec.template.metadata.labels", Invalid}}},
		{"bad selector", func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []*metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: "Is", Values: []string{"x"}}, {Key: "a", Operator: "In"}, {Key: "b", Operator: "Exists", Values: []string{"x"}}}
		}, []fe{{"spec.selector.matchExpressions[0].operator", NotSupported}, {"spec.selector.matchExpressions[1].values", Required},
			{"spec.selector.matchExpressions[2].values", Forbidden}}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = proto.Int32(-1) }, []fe{{"spec.replicas", Invalid}}},
		{"no template", func(d *appsv1.Deployment) { d.Spec.Template = nil }, []fe{{"spec.template", Required}}},
		{"template restart policy", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = "Never" },
			[]fe{{"spec.template.spec.restartPolicy", NotSupported}}},
		{"template image", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" },
			[]fe{{"spec.template.spec.containers[0].image", Required}}},
		{"template labels", func(d *appsv1.Deployment) { d.Spec.Template.Metadata.Labels["bad key!"] = "x" },
			[]fe{{"spec.template.metadata.labels", Invalid}}},
		{"bad strategy type", func(d *appsv1.Deployment) { d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "BlueGreen"} },
			[]fe{{"spec.strategy.type", NotSupported}}},
		{"recreate with rolling update", func(d *appsv1.Deployment) {
			d.Spec.Strategy = ru(1, 1)
			d.Spec.Strategy.Type = "Recreate"
		}, []fe{{"spec.strategy.rollingUpdate", Forbidden}}},
		{"both zero", func(d *appsv1.Deployment) { d.Spec.Strategy = ru(0, "0%") }, []fe{{"spec.strategy.rollingUpdate.maxUnavailable", Invalid}}},
		{"bad surge values", func(d *appsv1.Deployment) { d.Spec.Strategy = ru("120%", "ten") },
			[]fe{{"spec.strategy.rollingUpdate.maxUnavailable", Invalid}, {"spec.strategy.rollingUpdate.maxSurge", Invalid}}},
		{"negative surge", func(d *appsv1.Deployment) { d.Spec.Strategy = ru(1, -1) }, []fe{{"spec.strategy.rollingUpdate.maxSurge", Invalid}}},
		{"history and deadline", func(d *appsv1.Deployment) {
			d.Spec.RevisionHistoryLimit = proto.Int32(-1)
			d.Spec.MinReadySeconds, d.Spec.ProgressDeadlineSeconds = 30, proto.Int32(30)
		}, []fe{{"spec.revisionHistoryLimit", Invalid}, {"spec.progressDeadlineSeconds", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDeployment()
			tt.mutate(d)
			assertErrors(t, Validate(d), tt.want...)
		})
	}
}

func TestReplicaSet(t *testing.T) {
	valid := func() *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{Metadata: objectMeta("web-5d4f"), Spec: &appsv1.ReplicaSetSpec{
			Replicas: proto.Int32(2),
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: podTemplateSpec(webLabels, "Always"),
		}}
	}
	tests := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []fe
	}{
		{"valid", func(*appsv1.ReplicaSet) {}, nil},
		{"zero replicas", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = proto.Int32(0) }, nil},
		{"negative replicas and min ready", func(rs *appsv1.ReplicaSet) {
			rs.Spec.Replicas = proto.Int32(-2)
			rs.Spec.MinReadySeconds = -1
		}, []fe{{"spec.replicas", Invalid}, {"spec.minReadySeconds", Invalid}}},
		{"no selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, []fe{{"spec.selector", Required}}},
		{"mismatch", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Metadata.Labels = nil }, []fe{{"spec.template.metadata.labels", Invalid}}},
		{"restart policy", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = "OnFailure" }, []fe{{"spec.template.spec.restartPolicy", NotSupported}}},
		{"no template spec", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec = nil }, []fe{{"spec.template.spec", Required}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := valid()
			tt.mutate(rs)
			assertErrors(t, Validate(rs), tt.want...)
		})
	}
}
