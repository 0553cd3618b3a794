package endpoint

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type podOpt func(*corev1.Pod)

func ready(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, &corev1.PodCondition{Type: "Ready", Status: "True", LastTransitionTime: timestamppb.Now()})
}

func noIP(p *corev1.Pod)        { p.Status.PodIp = "" }
func terminating(p *corev1.Pod) { p.Metadata.DeletionTimestamp = timestamppb.Now() }
func succeeded(p *corev1.Pod)   { p.Status.Phase = "Succeeded" }

// host sets the pod's spec.hostname and spec.subdomain.
func host(hostname, subdomain string) podOpt {
	return func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = hostname, subdomain }
}

func withHostname(a *corev1.EndpointAddress, h string) *corev1.EndpointAddress {
	a.Hostname = h
	return a
}

// webPort gives the pod a container port named web.
func webPort(n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, &corev1.ContainerPort{Name: "web", ContainerPort: n, Protocol: "TCP"})
	}
}

func testPod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Labels: map[string]string{"app": "web"}},
		Spec:     &corev1.PodSpec{NodeName: "node-1", Containers: []*corev1.Container{{Name: "c", Image: "tugboat.local/app"}}},
		Status:   &corev1.PodStatus{Phase: "Running", PodIp: ip},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func testService(publish bool, ports ...*corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Uid: "svc-uid"},
		Spec:     &corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports, PublishNotReadyAddresses: publish},
	}
}

func named(name string, port int32, target string) *corev1.ServicePort {
	return &corev1.ServicePort{Name: name, Port: port, Protocol: "TCP", TargetPort: structpb.NewStringValue(target)}
}

func numbered(name string, port, target int32) *corev1.ServicePort {
	return &corev1.ServicePort{Name: name, Port: port, Protocol: "TCP", TargetPort: structpb.NewNumberValue(float64(target))}
}

func addr(name, ip string) *corev1.EndpointAddress {
	node := "node-1"
	return &corev1.EndpointAddress{Ip: ip, NodeName: &node, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: name, Uid: "uid-" + name}}
}

func epPort(name string, port int32) *corev1.EndpointPort {
	return &corev1.EndpointPort{Name: name, Port: port, Protocol: "TCP"}
}

func TestSubsets(t *testing.T) {
	tests := []struct {
		name           string
		svc            *corev1.Service
		pods           []*corev1.Pod
		want           []*corev1.EndpointSubset
		wantUnresolved []Unresolved
	}{
		{
			name: "ready and not ready",
			svc:  testService(false, numbered("http", 80, 8080)),
			pods: []*corev1.Pod{testPod("b", "10.244.0.3", ready), testPod("a", "10.244.0.2", ready), testPod("c", "10.244.0.4")},
			want: []*corev1.EndpointSubset{{
				Addresses:         []*corev1.EndpointAddress{addr("a", "10.244.0.2"), addr("b", "10.244.0.3")},
				NotReadyAddresses: []*corev1.EndpointAddress{addr("c", "10.244.0.4")},
				Ports:             []*corev1.EndpointPort{epPort("http", 8080)},
			}},
		},
		{
			name: "no IP, finished and terminating pods are left out",
			svc:  testService(false, numbered("", 80, 8080)),
			pods: []*corev1.Pod{testPod("a", "10.244.0.2", noIP, ready), testPod("b", "10.244.0.3", succeeded, ready),
				testPod("c", "10.244.0.4", ready, terminating), testPod("d", "10.244.0.5", terminating), testPod("e", "10.244.0.6", ready)},
			want: []*corev1.EndpointSubset{{
				Addresses: []*corev1.EndpointAddress{addr("e", "10.244.0.6")},
				Ports:     []*corev1.EndpointPort{epPort("", 8080)},
			}},
		},
		{
			name: "publishNotReadyAddresses keeps terminating pods",
			svc:  testService(true, numbered("", 80, 8080)),
			pods: []*corev1.Pod{testPod("c", "10.244.0.4", ready, terminating), testPod("d", "10.244.0.5", terminating)},
			want: []*corev1.EndpointSubset{{
				Addresses: []*corev1.EndpointAddress{addr("c", "10.244.0.4"), addr("d", "10.244.0.5")},
				Ports:     []*corev1.EndpointPort{epPort("", 8080)},
			}},
		},
		{
			name: "publishNotReadyAddresses puts every pod in addresses",
			svc:  testService(true, numbered("", 80, 8080)),
			pods: []*corev1.Pod{testPod("a", "10.244.0.2"), testPod("b", "10.244.0.3", ready)},
			want: []*corev1.EndpointSubset{{
				Addresses: []*corev1.EndpointAddress{addr("a", "10.244.0.2"), addr("b", "10.244.0.3")},
				Ports:     []*corev1.EndpointPort{epPort("", 8080)},
			}},
		},
		{
			name: "a named port resolves per pod: different numbers, different subsets",
			svc:  testService(false, named("http", 80, "web")),
			pods: []*corev1.Pod{testPod("a", "10.244.0.2", ready, webPort(8080)), testPod("b", "10.244.0.3", ready, webPort(9090)), testPod("c", "10.244.0.4", ready, webPort(8080))},
			want: []*corev1.EndpointSubset{
				{Addresses: []*corev1.EndpointAddress{addr("a", "10.244.0.2"), addr("c", "10.244.0.4")}, Ports: []*corev1.EndpointPort{epPort("http", 8080)}},
				{Addresses: []*corev1.EndpointAddress{addr("b", "10.244.0.3")}, Ports: []*corev1.EndpointPort{epPort("http", 9090)}},
			},
		},
		{
			name: "a pod without the named port is left out of that port and reported",
			svc:  testService(false, named("http", 80, "web"), numbered("metrics", 9100, 9100)),
			pods: []*corev1.Pod{testPod("a", "10.244.0.2", ready, webPort(8080)), testPod("b", "10.244.0.3", ready)},
			want: []*corev1.EndpointSubset{
				{Addresses: []*corev1.EndpointAddress{addr("a", "10.244.0.2")}, Ports: []*corev1.EndpointPort{epPort("http", 8080), epPort("metrics", 9100)}},
				{Addresses: []*corev1.EndpointAddress{addr("b", "10.244.0.3")}, Ports: []*corev1.EndpointPort{epPort("metrics", 9100)}},
			},
			wantUnresolved: []Unresolved{{Pod: "b", Port: "http", TargetPort: "web"}},
		},
		{
			name: "hostname set only when the pod's subdomain is the service",
			svc:  testService(false, numbered("", 80, 8080)),
			pods: []*corev1.Pod{
				testPod("a", "10.244.0.2", ready, host("web-0", "web")),
				testPod("b", "10.244.0.3", ready, host("web-1", "other")),
				testPod("c", "10.244.0.4", ready, host("", "web")),
				testPod("d", "10.244.0.5", host("web-3", "web")),
			},
			want: []*corev1.EndpointSubset{{
				Addresses:         []*corev1.EndpointAddress{withHostname(addr("a", "10.244.0.2"), "web-0"), addr("b", "10.244.0.3"), addr("c", "10.244.0.4")},
				NotReadyAddresses: []*corev1.EndpointAddress{withHostname(addr("d", "10.244.0.5"), "web-3")},
				Ports:             []*corev1.EndpointPort{epPort("", 8080)},
			}},
		},
		{
			name: "headless without ports lists the pods",
			svc:  testService(false),
			pods: []*corev1.Pod{testPod("a", "10.244.0.2", ready)},
			want: []*corev1.EndpointSubset{{Addresses: []*corev1.EndpointAddress{addr("a", "10.244.0.2")}}},
		},
		{
			name: "no pods, no subsets",
			svc:  testService(false, numbered("", 80, 80)),
			want: []*corev1.EndpointSubset{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unresolved := Subsets(tt.svc, tt.pods)
			if !proto.Equal(&corev1.Endpoints{Subsets: got}, &corev1.Endpoints{Subsets: tt.want}) {
				t.Fatalf("subsets:\n got %v\nwant %v", prototext.Format(&corev1.Endpoints{Subsets: got}), prototext.Format(&corev1.Endpoints{Subsets: tt.want}))
			}
			if len(unresolved) != len(tt.wantUnresolved) {
				t.Fatalf("unresolved %v, want %v", unresolved, tt.wantUnresolved)
			}
			for i := range unresolved {
				if unresolved[i] != tt.wantUnresolved[i] {
					t.Fatalf("unresolved %v, want %v", unresolved, tt.wantUnresolved)
				}
			}
		})
	}
}
