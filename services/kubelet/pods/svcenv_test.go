package pods

import (
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func svc(ns, name, ip string, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &corev1.ServiceSpec{ClusterIp: ip, Ports: ports},
	}
}

func port(name string, p int32, proto string) *corev1.ServicePort {
	return &corev1.ServicePort{Name: name, Port: p, Protocol: proto, TargetPort: structpb.NewNumberValue(8080)}
}

// seedKubernetes is seed 004's printenv of pod-env: the kubernetes Service's variables.
const seedKubernetes = "KUBERNETES_SERVICE_HOST=10.96.0.1 KUBERNETES_SERVICE_PORT=443 KUBERNETES_SERVICE_PORT_HTTPS=443 " +
	"KUBERNETES_PORT=tcp://10.96.0.1:443 KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443 KUBERNETES_PORT_443_TCP_PROTO=tcp " +
	"KUBERNETES_PORT_443_TCP_PORT=443 KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1"

func TestServiceEnv(t *testing.T) {
	kubernetes := svc("default", "kubernetes", "10.96.0.1", port("https", 443, "TCP"))
	disc := svc("web", "service-disc", "10.96.0.20", port("", 80, ""))
	multi := svc("web", "dns-x", "10.96.0.30", port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"))
	headless := svc("web", "headless", "None", port("", 80, "TCP"))
	external := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "web", Name: "ext"}, Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"}}
	other := svc("other", "elsewhere", "10.96.0.40", port("", 80, "TCP"))
	ownKubernetes := svc("web", "kubernetes", "10.96.0.50", port("", 8443, "TCP"))
	tests := []struct {
		name     string
		ns       string
		links    bool
		services []*corev1.Service
		want     string
	}{
		{"seed 004 pod-env", "default", true, []*corev1.Service{kubernetes}, seedKubernetes},
		{"service links in the pod's namespace", "web", true, []*corev1.Service{kubernetes, disc, other},
			seedKubernetes + " SERVICE_DISC_SERVICE_HOST=10.96.0.20 SERVICE_DISC_SERVICE_PORT=80 SERVICE_DISC_PORT=tcp://10.96.0.20:80 " +
				"SERVICE_DISC_PORT_80_TCP=tcp://10.96.0.20:80 SERVICE_DISC_PORT_80_TCP_PROTO=tcp SERVICE_DISC_PORT_80_TCP_PORT=80 SERVICE_DISC_PORT_80_TCP_ADDR=10.96.0.20"},
		{"named ports and UDP", "web", true, []*corev1.Service{multi},
			"DNS_X_SERVICE_HOST=10.96.0.30 DNS_X_SERVICE_PORT=53 DNS_X_SERVICE_PORT_DNS=53 DNS_X_SERVICE_PORT_DNS_TCP=53 " +
				"DNS_X_PORT=udp://10.96.0.30:53 DNS_X_PORT_53_UDP=udp://10.96.0.30:53 DNS_X_PORT_53_UDP_PROTO=udp DNS_X_PORT_53_UDP_PORT=53 DNS_X_PORT_53_UDP_ADDR=10.96.0.30 " +
				"DNS_X_PORT_53_TCP=tcp://10.96.0.30:53 DNS_X_PORT_53_TCP_PROTO=tcp DNS_X_PORT_53_TCP_PORT=53 DNS_X_PORT_53_TCP_ADDR=10.96.0.30"},
		{"headless and ExternalName have none", "web", true, []*corev1.Service{headless, external}, ""},
		{"enableServiceLinks false keeps only kubernetes", "web", false, []*corev1.Service{disc, kubernetes, ownKubernetes}, seedKubernetes},
		{"a kubernetes Service of the pod's namespace wins with links", "web", true, []*corev1.Service{kubernetes, ownKubernetes},
			"KUBERNETES_SERVICE_HOST=10.96.0.50 KUBERNETES_SERVICE_PORT=8443 KUBERNETES_PORT=tcp://10.96.0.50:8443 KUBERNETES_PORT_8443_TCP=tcp://10.96.0.50:8443 " +
				"KUBERNETES_PORT_8443_TCP_PROTO=tcp KUBERNETES_PORT_8443_TCP_PORT=8443 KUBERNETES_PORT_8443_TCP_ADDR=10.96.0.50"},
		{"no Services", "web", true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range serviceEnv(tt.ns, tt.links, tt.services) {
				got = append(got, e.name+"="+e.value)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

type serviceList []*corev1.Service

func (l serviceList) ServicesFor(string) []*corev1.Service { return l }

// The container's own env wins over Service variables, which it may refer
// to with $(VAR); the Service variables come after the container's.
func TestEnvsWithServices(t *testing.T) {
	services := serviceList{
		svc("default", "kubernetes", "10.96.0.1", port("https", 443, "TCP")),
		svc("web", "service-disc", "10.96.0.20", port("", 80, "TCP")),
	}
	m := &Manager{src: mapSource{}, svcs: services}
	c := &corev1.Container{Name: "c", Env: []*corev1.EnvVar{
		{Name: "SERVICE_DISC_SERVICE_HOST", Value: "overridden"},
		{Name: "URL", Value: "http://$(SERVICE_DISC_SERVICE_HOST):$(SERVICE_DISC_SERVICE_PORT)/ $(KUBERNETES_SERVICE_HOST)"},
	}, Command: []string{"echo", "$(KUBERNETES_PORT_443_TCP_ADDR)"}}
	tests := []struct {
		name  string
		links *bool
		want  map[string]string // a selection of variables
		none  []string          // variables that must be absent
	}{
		{"links by default", nil,
			map[string]string{"SERVICE_DISC_SERVICE_HOST": "overridden", "URL": "http://overridden:80/ 10.96.0.1", "SERVICE_DISC_PORT": "tcp://10.96.0.20:80", "KUBERNETES_SERVICE_PORT_HTTPS": "443"}, nil},
		{"links off", proto.Bool(false),
			map[string]string{"SERVICE_DISC_SERVICE_HOST": "overridden", "URL": "http://overridden:$(SERVICE_DISC_SERVICE_PORT)/ 10.96.0.1", "KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			[]string{"SERVICE_DISC_PORT", "SERVICE_DISC_SERVICE_PORT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "web", Name: "p"}, Spec: &corev1.PodSpec{EnableServiceLinks: tt.links}}
			kvs, err := m.envs(pod, c, "10.244.0.5")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			var keys []string
			for _, kv := range kvs {
				if _, dup := got[kv.GetKey()]; dup {
					t.Errorf("%s is set twice", kv.GetKey())
				}
				got[kv.GetKey()] = string(kv.GetValue())
				keys = append(keys, kv.GetKey())
			}
			if keys[0] != "SERVICE_DISC_SERVICE_HOST" || keys[1] != "URL" {
				t.Errorf("the container's own variables do not come first: %q", keys)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s=%q, want %q", k, got[k], v)
				}
			}
			for _, k := range tt.none {
				if _, ok := got[k]; ok {
					t.Errorf("%s is set with links off", k)
				}
			}
			if cmd := expandAll(c.GetCommand(), kvs); cmd[1] != "10.96.0.1" {
				t.Errorf("command expands to %q, want the Service address", cmd)
			}
		})
	}
}
