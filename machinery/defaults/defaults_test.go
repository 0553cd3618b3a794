package defaults

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// expect compares got with want and names the field.
func expect[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

func TestPod(t *testing.T) {
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: &corev1.PodSpec{
		Volumes: []*corev1.Volume{
			{Name: "s", Secret: &corev1.SecretVolumeSource{SecretName: "s"}},
			{Name: "c", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "c", DefaultMode: proto.Int32(0o400)}},
		},
		InitContainers: []*corev1.Container{{Name: "init", Image: "busybox"}},
		Containers: []*corev1.Container{{
			Name: "web", Image: "nginx:1.25",
			Ports:          []*corev1.ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: "UDP"}},
			Resources:      &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "500m", "memory": "64Mi"}, Requests: map[string]string{"cpu": "100m"}},
			LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: structpb.NewNumberValue(80)}},
			ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: structpb.NewNumberValue(80)}, PeriodSeconds: 3, FailureThreshold: 1},
			Env:            []*corev1.EnvVar{{Name: "N", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		}},
	}}
	Apply(pod)
	s := pod.Spec
	expect(t, "restartPolicy", s.RestartPolicy, "Always")
	expect(t, "dnsPolicy", s.DnsPolicy, "ClusterFirst")
	expect(t, "terminationGracePeriodSeconds", s.GetTerminationGracePeriodSeconds(), 30)
	expect(t, "schedulerName", s.SchedulerName, "default-scheduler")
	expect(t, "enableServiceLinks", s.GetEnableServiceLinks(), true)
	expect(t, "volumes[0].secret.defaultMode", s.Volumes[0].Secret.GetDefaultMode(), 0o644)
	expect(t, "volumes[1].configMap.defaultMode (explicit)", s.Volumes[1].ConfigMap.GetDefaultMode(), 0o400)
	expect(t, "initContainers[0].imagePullPolicy", s.InitContainers[0].ImagePullPolicy, "Always")
	c := s.Containers[0]
	expect(t, "imagePullPolicy", c.ImagePullPolicy, "IfNotPresent")
	expect(t, "terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log")
	expect(t, "terminationMessagePolicy", c.TerminationMessagePolicy, "File")
	expect(t, "ports[0].protocol", c.Ports[0].Protocol, "TCP")
	expect(t, "ports[1].protocol (explicit)", c.Ports[1].Protocol, "UDP")
	expect(t, "ports[0].hostPort", c.Ports[0].HostPort, 0)
	expect(t, "requests[cpu] (explicit)", c.Resources.Requests["cpu"], "100m")
	expect(t, "requests[memory]", c.Resources.Requests["memory"], "64Mi")
	expect(t, "env[0].valueFrom.fieldRef.apiVersion", c.Env[0].ValueFrom.FieldRef.ApiVersion, "v1")
	l := c.LivenessProbe
	expect(t, "livenessProbe.timeoutSeconds", l.TimeoutSeconds, 1)
	expect(t, "livenessProbe.periodSeconds", l.PeriodSeconds, 10)
	expect(t, "livenessProbe.successThreshold", l.SuccessThreshold, 1)
	expect(t, "livenessProbe.failureThreshold", l.FailureThreshold, 3)
	expect(t, "livenessProbe.httpGet.path", l.HttpGet.Path, "/")
	expect(t, "livenessProbe.httpGet.scheme", l.HttpGet.Scheme, "HTTP")
	expect(t, "readinessProbe.periodSeconds (explicit)", c.ReadinessProbe.PeriodSeconds, 3)
	expect(t, "readinessProbe.failureThreshold (explicit)", c.ReadinessProbe.FailureThreshold, 1)
}

func TestPodKeepsExplicitValues(t *testing.T) {
	spec := &corev1.PodSpec{
		RestartPolicy: "Never", DnsPolicy: "Default", SchedulerName: "mine",
		TerminationGracePeriodSeconds: proto.Int32(0), EnableServiceLinks: proto.Bool(false),
		Containers: []*corev1.Container{{Name: "c", Image: "app", ImagePullPolicy: "Never",
			TerminationMessagePath: "/tmp/log", TerminationMessagePolicy: "FallbackToLogsOnError"}},
	}
	want := proto.Clone(spec)
	Apply(&corev1.Pod{Spec: spec})
	if !proto.Equal(spec, want) {
		t.Fatalf("explicit values changed:\n%v", spec)
	}
}

func TestHostNetworkPorts(t *testing.T) {
	pod := &corev1.Pod{Spec: &corev1.PodSpec{HostNetwork: true, Containers: []*corev1.Container{{
		Name: "c", Image: "x", Ports: []*corev1.ContainerPort{{ContainerPort: 8080}}}}}}
	Apply(pod)
	expect(t, "hostPort", pod.Spec.Containers[0].Ports[0].HostPort, 8080)
}

func TestPullPolicy(t *testing.T) {
	tests := []struct{ image, want string }{
		{"nginx", "Always"},
		{"nginx:latest", "Always"},
		{"nginx:1.25", "IfNotPresent"},
		{"localhost:5000/app", "Always"},
		{"localhost:5000/app:v1", "IfNotPresent"},
		{"registry.local/team/app:latest", "Always"},
		{"app@sha256:0123456789abcdef", "IfNotPresent"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) { expect(t, "pullPolicy", pullPolicy(tt.image), tt.want) })
	}
}

func TestTemplateKeepsRequests(t *testing.T) {
	// Kubernetes copies limits to requests in pods only; templates keep what the user wrote.
	tmpl := &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
		Name: "c", Image: "x", Resources: &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "1"}}}}}}
	template(tmpl)
	if r := tmpl.Spec.Containers[0].Resources.Requests; len(r) != 0 {
		t.Fatalf("template requests = %v, want none", r)
	}
	expect(t, "restartPolicy", tmpl.Spec.RestartPolicy, "Always")
}

func TestService(t *testing.T) {
	svc := &corev1.Service{Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{
		{Port: 80}, {Port: 53, Protocol: "UDP", TargetPort: structpb.NewStringValue("dns")}}}}
	Apply(svc)
	s := svc.Spec
	expect(t, "type", s.Type, "ClusterIP")
	expect(t, "sessionAffinity", s.SessionAffinity, "None")
	expect(t, "ports[0].protocol", s.Ports[0].Protocol, "TCP")
	expect(t, "ports[0].targetPort", s.Ports[0].TargetPort.GetNumberValue(), 80)
	expect(t, "ports[1].protocol (explicit)", s.Ports[1].Protocol, "UDP")
	expect(t, "ports[1].targetPort (explicit)", s.Ports[1].TargetPort.GetStringValue(), "dns")
	expect(t, "internalTrafficPolicy", s.GetInternalTrafficPolicy(), "Cluster")
	expect(t, "ipFamilyPolicy", s.GetIpFamilyPolicy(), "SingleStack")
	expect(t, "ipFamilies", len(s.IpFamilies) == 1 && s.IpFamilies[0] == "IPv4", true)
	expect(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, "")

	np := &corev1.Service{Spec: &corev1.ServiceSpec{Type: "NodePort", ClusterIp: "fd00::10", SessionAffinity: "ClientIP"}}
	Apply(np)
	expect(t, "externalTrafficPolicy", np.Spec.ExternalTrafficPolicy, "Cluster")
	expect(t, "sessionAffinity (explicit)", np.Spec.SessionAffinity, "ClientIP")
	expect(t, "ipFamilies[0]", np.Spec.IpFamilies[0], "IPv6")
	expect(t, "clusterIPs from clusterIP", len(np.Spec.ClusterIps) == 1 && np.Spec.ClusterIps[0] == "fd00::10", true)

	ips := &corev1.Service{Spec: &corev1.ServiceSpec{ClusterIps: []string{"10.96.0.20"}}}
	Apply(ips)
	expect(t, "clusterIP from clusterIPs", ips.Spec.ClusterIp, "10.96.0.20")

	ext := &corev1.Service{Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "example.com"}}
	Apply(ext)
	expect(t, "externalName ipFamilyPolicy", ext.Spec.IpFamilyPolicy == nil, true)
	expect(t, "externalName internalTrafficPolicy", ext.Spec.InternalTrafficPolicy == nil, true)
}

func TestEndpoints(t *testing.T) {
	ep := &corev1.Endpoints{Subsets: []*corev1.EndpointSubset{{Ports: []*corev1.EndpointPort{{Port: 80}}}}}
	Apply(ep)
	expect(t, "ports[0].protocol", ep.Subsets[0].Ports[0].Protocol, "TCP")
}

func TestSecret(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}, StringData: map[string]string{"b": "two", "c": "3"}}
	Apply(s)
	expect(t, "type", s.Type, "Opaque")
	expect(t, "data[a]", string(s.Data["a"]), "1")
	expect(t, "data[b]", string(s.Data["b"]), "two")
	expect(t, "data[c]", string(s.Data["c"]), "3")
	expect(t, "stringData", len(s.StringData), 0)
	tls := &corev1.Secret{Type: "kubernetes.io/tls"}
	Apply(tls)
	expect(t, "type (explicit)", tls.Type, "kubernetes.io/tls")
}

func TestNamespace(t *testing.T) {
	ns := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}}
	Apply(ns)
	expect(t, "status.phase", ns.GetStatus().GetPhase(), "Active")
	expect(t, "spec.finalizers", len(ns.GetSpec().GetFinalizers()) == 1 && ns.Spec.Finalizers[0] == "kubernetes", true)
	Apply(ns)
	expect(t, "finalizers after a second Apply", len(ns.Spec.Finalizers), 1)

	terminating := &corev1.Namespace{Status: &corev1.NamespaceStatus{Phase: "Terminating"}}
	Apply(terminating)
	expect(t, "terminating finalizers", len(terminating.GetSpec().GetFinalizers()), 0)
	expect(t, "terminating phase", terminating.Status.Phase, "Terminating")
}

func TestNode(t *testing.T) {
	n := &corev1.Node{Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "2"}}}
	Apply(n)
	expect(t, "allocatable[cpu]", n.Status.Allocatable["cpu"], "2")
	n2 := &corev1.Node{Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "2"}, Allocatable: map[string]string{"cpu": "1900m"}}}
	Apply(n2)
	expect(t, "allocatable[cpu] (explicit)", n2.Status.Allocatable["cpu"], "1900m")
}

func TestIdempotent(t *testing.T) {
	for _, obj := range minimalObjects() {
		Apply(obj)
		once := proto.Clone(obj)
		Apply(obj)
		if !proto.Equal(obj, once) {
			t.Errorf("Apply is not idempotent on %T", obj)
		}
	}
}
