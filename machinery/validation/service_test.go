package validation

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

func validService() *corev1.Service {
	return &corev1.Service{
		Metadata: objectMeta("web"),
		Spec: &corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []*corev1.ServicePort{{Port: 80, TargetPort: num(9876)}},
		},
	}
}

func TestService(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []fe
	}{
		{"valid", func(*corev1.Service) {}, nil},
		{"valid node port with named ports", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIp, s.Spec.SessionAffinity = "NodePort", "10.96.0.12", "ClientIP"
			s.Spec.ExternalTrafficPolicy = "Local"
			s.Spec.Ports = []*corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: str("http"), NodePort: 30080, Protocol: "TCP"},
				{Name: "dns", Port: 53, Protocol: "UDP"},
			}
			s.Spec.IpFamilies, s.Spec.IpFamilyPolicy = []string{"IPv4"}, proto.String("SingleStack")
		}, nil},
		{"valid headless without ports", func(s *corev1.Service) { s.Spec.ClusterIp, s.Spec.Ports = "None", nil }, nil},
		{"valid external name", func(s *corev1.Service) {
			s.Spec = &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com."}
		}, nil},
		{"no spec", func(s *corev1.Service) { s.Spec = nil }, []fe{{"spec", Required}}},
		{"name must start with a letter", func(s *corev1.Service) { s.Metadata.Name = "1web" }, []fe{{"metadata.name", Invalid}}},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []fe{{"spec.ports", Required}}},
		{"bad type", func(s *corev1.Service) { s.Spec.Type = "Ingress" }, []fe{{"spec.type", NotSupported}}},
		{"bad port", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []fe{{"spec.ports[0].port", Invalid}}},
		{"bad target ports", func(s *corev1.Service) {
			s.Spec.Ports = []*corev1.ServicePort{
				{Name: "a", Port: 80, TargetPort: num(70000)},
				{Name: "b", Port: 81, TargetPort: str("Not_A_Name")},
				{Name: "c", Port: 82, TargetPort: num(1.5)},
			}
		}, []fe{{"spec.ports[0].targetPort", Invalid}, {"spec.ports[1].targetPort", Invalid}, {"spec.ports[2].targetPort", Invalid}}},
		{"port names", func(s *corev1.Service) {
			s.Spec.Ports = []*corev1.ServicePort{{Port: 80}, {Name: "x", Port: 81}, {Name: "x", Port: 82}, {Name: "Bad", Port: 83}}
		}, []fe{{"spec.ports[0].name", Required}, {"spec.ports[2].name", Duplicate}, {"spec.ports[3].name", Invalid}}},
		{"duplicate port", func(s *corev1.Service) {
			s.Spec.Ports = []*corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80, Protocol: "TCP"}, {Name: "c", Port: 80, Protocol: "UDP"}}
		}, []fe{{"spec.ports[1]", Duplicate}}},
		{"bad protocol", func(s *corev1.Service) { s.Spec.Ports[0].Protocol = "HTTP" }, []fe{{"spec.ports[0].protocol", NotSupported}}},
		{"node port on cluster IP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }, []fe{{"spec.ports[0].nodePort", Forbidden}}},
		{"node port out of range", func(s *corev1.Service) {
			s.Spec.Type = "LoadBalancer"
			s.Spec.Ports[0].NodePort = 70000
		}, []fe{{"spec.ports[0].nodePort", Invalid}}},
		{"headless node port", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIp = "NodePort", "None"
		}, []fe{{"spec.clusterIP", Invalid}}},
		{"cluster IPs on external name", func(s *corev1.Service) {
			s.Spec = &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "db.example.com", ClusterIps: []string{"10.96.0.5"}}
		}, []fe{{"spec.clusterIPs", Forbidden}}},
		{"bad cluster IP", func(s *corev1.Service) { s.Spec.ClusterIp = "10.96.0.300" }, []fe{{"spec.clusterIP", Invalid}}},
		{"bad affinity and selector", func(s *corev1.Service) {
			s.Spec.SessionAffinity = "Sticky"
			s.Spec.Selector = map[string]string{"app": "a b"}
		}, []fe{{"spec.sessionAffinity", NotSupported}, {"spec.selector", Invalid}}},
		{"external name", func(s *corev1.Service) {
			s.Spec = &corev1.ServiceSpec{Type: "ExternalName", ClusterIp: "10.0.0.1", IpFamilyPolicy: proto.String("SingleStack")}
		}, []fe{{"spec.clusterIP", Forbidden}, {"spec.externalName", Required}, {"spec.ipFamilyPolicy", Forbidden}}},
		{"bad families", func(s *corev1.Service) {
			s.Spec.IpFamilies = []string{"IPv4", "IPv4"}
			s.Spec.IpFamilyPolicy = proto.String("Maybe")
			s.Spec.ExternalTrafficPolicy = "Local"
		}, []fe{{"spec.ipFamilies[1]", Duplicate}, {"spec.ipFamilyPolicy", NotSupported}, {"spec.externalTrafficPolicy", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validService()
			tt.mutate(s)
			assertErrors(t, Validate(s), tt.want...)
		})
	}
}

func TestEndpoints(t *testing.T) {
	valid := func() *corev1.Endpoints {
		return &corev1.Endpoints{Metadata: objectMeta("web"), Subsets: []*corev1.EndpointSubset{{
			Addresses:         []*corev1.EndpointAddress{{Ip: "10.244.1.5", NodeName: proto.String("node-1")}},
			NotReadyAddresses: []*corev1.EndpointAddress{{Ip: "fd00::5"}},
			Ports:             []*corev1.EndpointPort{{Name: "http", Port: 9876, Protocol: "TCP"}},
		}}}
	}
	tests := []struct {
		name   string
		mutate func(*corev1.Endpoints)
		want   []fe
	}{
		{"valid", func(*corev1.Endpoints) {}, nil},
		{"no subsets", func(e *corev1.Endpoints) { e.Subsets = nil }, nil},
		{"bad address", func(e *corev1.Endpoints) { e.Subsets[0].Addresses[0].Ip = "pod-a" }, []fe{{"subsets[0].addresses[0].ip", Invalid}}},
		{"bad ports", func(e *corev1.Endpoints) {
			e.Subsets[0].Ports = []*corev1.EndpointPort{{Port: 0}, {Name: "b", Port: 1, Protocol: "IP"}}
		}, []fe{{"subsets[0].ports[0].name", Required}, {"subsets[0].ports[0].port", Invalid}, {"subsets[0].ports[1].protocol", NotSupported}}},
		{"empty subset", func(e *corev1.Endpoints) { e.Subsets[0] = &corev1.EndpointSubset{} }, []fe{{"subsets[0]", Required}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(e)
			assertErrors(t, Validate(e), tt.want...)
		})
	}
}
