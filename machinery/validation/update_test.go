package validation

import (
	"testing"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// updateCase changes a copy of old and expects the given errors.
type updateCase[T proto.Message] struct {
	name   string
	mutate func(T)
	want   []fe
}

func runUpdates[T proto.Message](t *testing.T, old T, tests []updateCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := proto.Clone(old).(T)
			tt.mutate(n)
			assertErrors(t, ValidateUpdate(n, old), tt.want...)
		})
	}
}

func TestPodUpdate(t *testing.T) {
	old := seedPod()
	old.Metadata.Uid = "u1"
	old.Metadata.CreationTimestamp = timestamppb.New(time.Unix(1700000000, 0))
	old.Spec.InitContainers = []*corev1.Container{{Name: "init", Image: "busybox:1"}}
	old.Spec.ActiveDeadlineSeconds = proto.Int32(100)
	old.Spec.Tolerations = []*corev1.Toleration{{Key: "a", Operator: "Exists"}}
	runUpdates(t, old, []updateCase[*corev1.Pod]{
		{"no change", func(*corev1.Pod) {}, nil},
		{"mutable fields", func(p *corev1.Pod) {
			p.Metadata.Labels = map[string]string{"app": "web"}
			p.Spec.Containers[0].Image = "mhausenblas/simpleservice:0.5.1"
			p.Spec.InitContainers[0].Image = "busybox:2"
			p.Spec.ActiveDeadlineSeconds = proto.Int32(50)
			p.Spec.TerminationGracePeriodSeconds = proto.Int32(5)
			p.Spec.Tolerations = append(p.Spec.Tolerations, &corev1.Toleration{Key: "b", Operator: "Exists"})
		}, nil},
		{"immutable metadata", func(p *corev1.Pod) {
			p.Metadata.Name, p.Metadata.Namespace, p.Metadata.Uid = "other", "prod", "u2"
			p.Metadata.CreationTimestamp = timestamppb.Now()
		}, []fe{{"metadata.name", Invalid}, {"metadata.namespace", Invalid}, {"metadata.uid", Invalid}, {"metadata.creationTimestamp", Invalid}}},
		{"container command", func(p *corev1.Pod) { p.Spec.Containers[1].Command = nil }, []fe{{"spec", Forbidden}}},
		{"add container", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: "x", Image: "x"})
		}, []fe{{"spec", Forbidden}}},
		{"resources", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["cpu"] = "1" }, []fe{{"spec", Forbidden}}},
		{"deadline raised", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = proto.Int32(200) }, []fe{{"spec.activeDeadlineSeconds", Invalid}}},
		{"deadline removed", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil }, []fe{{"spec.activeDeadlineSeconds", Invalid}}},
		{"toleration removed", func(p *corev1.Pod) { p.Spec.Tolerations = nil }, []fe{{"spec.tolerations", Forbidden}}},
		{"still validated", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }, []fe{{"spec.containers[0].image", Required}}},
	})
}

func TestServiceUpdate(t *testing.T) {
	old := validService()
	old.Spec.ClusterIp = "10.96.0.20"
	runUpdates(t, old, []updateCase[*corev1.Service]{
		{"ports may change", func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }, nil},
		{"cluster IP", func(s *corev1.Service) { s.Spec.ClusterIp = "10.96.0.21" }, []fe{{"spec.clusterIP", Invalid}}},
		{"cluster IP cleared", func(s *corev1.Service) { s.Spec.ClusterIp = "" }, []fe{{"spec.clusterIP", Invalid}}},
		{"to external name", func(s *corev1.Service) {
			s.Spec = &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"}
		}, nil},
	})
	unset := validService()
	runUpdates(t, unset, []updateCase[*corev1.Service]{
		{"cluster IP set", func(s *corev1.Service) { s.Spec.ClusterIp = "10.96.0.21" }, nil},
	})
}

func TestConfigUpdate(t *testing.T) {
	cm := &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"a": "1"}, Immutable: proto.Bool(true)}
	runUpdates(t, cm, []updateCase[*corev1.ConfigMap]{
		{"labels", func(c *corev1.ConfigMap) { c.Metadata.Labels = map[string]string{"a": "b"} }, nil},
		{"data", func(c *corev1.ConfigMap) { c.Data["a"] = "2" }, []fe{{"data", Forbidden}}},
		{"binary data", func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": nil} }, []fe{{"binaryData", Forbidden}}},
		{"mutable again", func(c *corev1.ConfigMap) { c.Immutable = proto.Bool(false) }, []fe{{"immutable", Forbidden}}},
	})
	mutable := &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"a": "1"}}
	runUpdates(t, mutable, []updateCase[*corev1.ConfigMap]{
		{"data", func(c *corev1.ConfigMap) { c.Data["a"] = "2"; c.Immutable = proto.Bool(true) }, nil},
	})
	secret := &corev1.Secret{Metadata: objectMeta("creds"), Data: map[string][]byte{"a": []byte("1")}, Immutable: proto.Bool(true)}
	runUpdates(t, secret, []updateCase[*corev1.Secret]{
		{"same", func(*corev1.Secret) {}, nil},
		{"data", func(s *corev1.Secret) { s.Data["a"] = []byte("2") }, []fe{{"data", Forbidden}}},
		{"string data", func(s *corev1.Secret) { s.StringData = map[string]string{"b": "2"} }, []fe{{"data", Forbidden}}},
		{"mutable again", func(s *corev1.Secret) { s.Immutable = nil }, []fe{{"immutable", Forbidden}}},
		{"type", func(s *corev1.Secret) { s.Type = "example.com/custom" }, []fe{{"type", Invalid}}},
		{"type defaulted", func(s *corev1.Secret) { s.Type = "Opaque" }, nil},
	})
}

func TestNodeUpdate(t *testing.T) {
	old := &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "node-1"}, Spec: &corev1.NodeSpec{}}
	runUpdates(t, old, []updateCase[*corev1.Node]{
		{"set pod CIDR", func(n *corev1.Node) { n.Spec.PodCidr, n.Spec.PodCidrs = "10.244.1.0/24", []string{"10.244.1.0/24"} }, nil},
	})
	old.Spec.PodCidr, old.Spec.PodCidrs = "10.244.1.0/24", []string{"10.244.1.0/24"}
	runUpdates(t, old, []updateCase[*corev1.Node]{
		{"taint", func(n *corev1.Node) { n.Spec.Taints = []*corev1.Taint{{Key: "a", Effect: "NoSchedule"}} }, nil},
		{"change pod CIDR", func(n *corev1.Node) { n.Spec.PodCidr, n.Spec.PodCidrs = "10.244.2.0/24", []string{"10.244.2.0/24"} },
			[]fe{{"spec.podCIDR", Forbidden}, {"spec.podCIDRs", Forbidden}}},
	})
}

func TestWorkloadUpdate(t *testing.T) {
	d := validDeployment()
	runUpdates(t, d, []updateCase[*appsv1.Deployment]{
		{"scale and new image", func(d *appsv1.Deployment) {
			d.Spec.Replicas = proto.Int32(5)
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.26"
		}, nil},
		{"selector", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels["tier"] = "front" }, []fe{{"spec.selector", Invalid}}},
	})
	rs := &appsv1.ReplicaSet{Metadata: objectMeta("web-1"), Spec: &appsv1.ReplicaSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: webLabels}, Template: podTemplateSpec(webLabels, "")}}
	runUpdates(t, rs, []updateCase[*appsv1.ReplicaSet]{
		{"scale", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = proto.Int32(0) }, nil},
		{"selector", func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector.MatchLabels = map[string]string{"app": "web", "x": "y"}
			rs.Spec.Template.Metadata.Labels = map[string]string{"app": "web", "x": "y"}
		}, []fe{{"spec.selector", Invalid}}},
	})
	runUpdates(t, validJob(), []updateCase[*batchv1.Job]{
		{"parallelism", func(j *batchv1.Job) { j.Spec.Parallelism = proto.Int32(4) }, nil},
		{"template", func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "x" }, []fe{{"spec.template", Invalid}}},
		{"completions", func(j *batchv1.Job) { j.Spec.Completions = proto.Int32(6) }, []fe{{"spec.completions", Invalid}}},
		{"selector", func(j *batchv1.Job) {
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		}, []fe{{"spec.selector", Invalid}, {"spec.template.metadata.labels", Invalid}}},
	})
}

// TestEmptyObjects feeds every kind empty and half-empty objects: validation
// reports errors but never panics.
func TestEmptyObjects(t *testing.T) {
	for _, k := range scheme.All() {
		t.Run(k.Kind, func(t *testing.T) {
			obj := k.New()
			if errs := Validate(obj); len(errs) == 0 {
				t.Fatalf("empty %s is valid", k.Kind)
			}
			_ = ValidateUpdate(obj, k.New())
			r := obj.ProtoReflect()
			fields := r.Descriptor().Fields()
			for i := 0; i < fields.Len(); i++ {
				if f := fields.Get(i); f.Message() != nil && !f.IsList() && !f.IsMap() {
					r.Set(f, r.NewField(f))
				}
			}
			_ = Validate(obj)
			_ = ValidateUpdate(obj, k.New())
		})
	}
}
