package command

import (
	"slices"
	"strings"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

func TestServiceFor(t *testing.T) {
	deploy := func(sel *metav1.LabelSelector, ports ...*corev1.ContainerPort) *appsv1.Deployment {
		return &appsv1.Deployment{
			Metadata: &metav1.ObjectMeta{Name: "web", Labels: map[string]string{"team": "a"}},
			Spec: &appsv1.DeploymentSpec{Selector: sel, Template: &corev1.PodTemplateSpec{
				Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Ports: ports}}},
			}},
		}
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tests := []struct {
		name    string
		obj     proto.Message
		opts    exposeOptions
		want    string // type selector labels ports
		wantErr string
	}{
		{"one container port", deploy(sel, &corev1.ContainerPort{ContainerPort: 8080}), exposeOptions{},
			"ClusterIP app=web team=a :8080/TCP->8080", ""},
		{"several container ports", deploy(sel, &corev1.ContainerPort{ContainerPort: 8080}, &corev1.ContainerPort{ContainerPort: 53, Protocol: "UDP"}), exposeOptions{targetPort: "9000"},
			"ClusterIP app=web team=a port-1:8080/TCP->9000,port-2:53/UDP->9000", ""},
		{"explicit everything", deploy(sel), exposeOptions{port: "80", targetPort: "http", typ: "NodePort", protocol: "SCTP", selector: "x=y", labels: "l=m", name: "other"},
			"NodePort x=y l=m :80/SCTP->http", ""},
		{"match expressions", deploy(&metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "app", Operator: "Exists"}}}), exposeOptions{port: "80"},
			"", "couldn't convert expressions"},
		{"no ports", deploy(sel), exposeOptions{}, "", "couldn't find port"},
		{"service without selector", &corev1.Service{Metadata: &metav1.ObjectMeta{Name: "s"}, Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Port: 80}}}}, exposeOptions{},
			"", "couldn't retrieve selectors"},
		{"bad labels", deploy(sel), exposeOptions{port: "80", labels: "nolabel"}, "", "invalid --labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, err := serviceFor(tt.obj, "web", "ns", &tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ports []string
			for _, p := range svc.GetSpec().GetPorts() {
				target := p.GetTargetPort().GetStringValue()
				if target == "" {
					target = itoa(int(p.GetTargetPort().GetNumberValue()))
				}
				ports = append(ports, p.GetName()+":"+itoa(int(p.GetPort()))+"/"+p.GetProtocol()+"->"+target)
			}
			got := strings.Join([]string{svc.GetSpec().GetType(), labelString(svc.GetSpec().GetSelector()), labelString(svc.GetMetadata().GetLabels()), strings.Join(ports, ",")}, " ")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if want := map[bool]string{true: tt.opts.name, false: "web"}[tt.opts.name != ""]; svc.GetMetadata().GetName() != want || svc.GetMetadata().GetNamespace() != "ns" {
				t.Errorf("service %s/%s", svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName())
			}
		})
	}
}

func labelString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
