package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/app"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// A pod's sandbox gets its resolv.conf by its dnsPolicy and dnsConfig, and
// its containers the variables of the Services that existed when it
// started, as the kubelet (with its Services informer) gives them to the
// runtime.
func TestPodDNSAndServiceEnv(t *testing.T) {
	api := harness.StartAPIServer(t)
	ctx := harness.Context(t, waitTimeout)
	// The kubernetes Service: an apiserver that keeps it makes it at
	// start (and holds its address); this one is made where none does.
	var kubernetes *corev1.Service
	harness.Poll(t, waitTimeout, "the kubernetes Service exists", func() (bool, string) {
		var err error
		kubernetes, err = api.Client.Services().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "kubernetes"})
		if status.Code(err) == codes.NotFound {
			kubernetes, err = api.Client.Services().Create(ctx, &corev1.Service{
				Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"},
				Spec: &corev1.ServiceSpec{ClusterIp: "10.96.0.1", Ports: []*corev1.ServicePort{
					{Name: "https", Port: 443, Protocol: "TCP", TargetPort: structpb.NewNumberValue(6443)},
				}},
			})
		}
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	for _, s := range []*corev1.Service{
		{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "service-disc"}, Spec: &corev1.ServiceSpec{
			ClusterIp: "10.96.7.20", Selector: map[string]string{"app": "disc"},
			Ports: []*corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: structpb.NewNumberValue(8080)}},
		}},
		{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "headless"}, Spec: &corev1.ServiceSpec{
			ClusterIp: "None", Selector: map[string]string{"app": "disc"},
			Ports: []*corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: structpb.NewNumberValue(8080)}},
		}},
	} {
		if _, err := api.Client.Services().Create(ctx, s); err != nil {
			t.Fatalf("create Service %s: %v", s.GetMetadata().GetName(), err)
		}
	}

	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	runtimes := map[string]*fakeruntime.Runtime{}
	// The Services exist before the kubelet starts: its informer's first
	// list holds them, and pods wait for that list.
	h := harness.StartHollowKubelets(t, api, 1, harness.WithKubeletConfig(func(c *app.Config) {
		c.ResolvConf = resolv
		c.HollowRuntimes = func(node string, rt *fakeruntime.Runtime) {
			mu.Lock()
			defer mu.Unlock()
			runtimes[node] = rt
		}
	}))
	mu.Lock()
	rt := runtimes[h.Nodes[0]]
	mu.Unlock()
	if rt == nil {
		t.Fatalf("no fake runtime was handed out for %s", h.Nodes[0])
	}

	clusterFirst := "nameserver 10.96.0.10 | search default.svc.cluster.local svc.cluster.local cluster.local corp.example | options ndots:5"
	host := "nameserver 192.0.2.53 | search corp.example | options edns0"
	kip := kubernetes.GetSpec().GetClusterIp()
	kubeVars := []string{"KUBERNETES_SERVICE_HOST=" + kip, "KUBERNETES_SERVICE_PORT=443", "KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT=tcp://" + kip + ":443", "KUBERNETES_PORT_443_TCP=tcp://" + kip + ":443",
		"KUBERNETES_PORT_443_TCP_PROTO=tcp", "KUBERNETES_PORT_443_TCP_PORT=443", "KUBERNETES_PORT_443_TCP_ADDR=" + kip}
	discVars := []string{"SERVICE_DISC_SERVICE_HOST=10.96.7.20", "SERVICE_DISC_SERVICE_PORT=80", "SERVICE_DISC_PORT=tcp://10.96.7.20:80",
		"SERVICE_DISC_PORT_80_TCP=tcp://10.96.7.20:80", "SERVICE_DISC_PORT_80_TCP_PROTO=tcp", "SERVICE_DISC_PORT_80_TCP_PORT=80",
		"SERVICE_DISC_PORT_80_TCP_ADDR=10.96.7.20"}
	tests := []struct {
		name    string
		edit    func(*corev1.PodSpec)
		dns     string
		env     []string // exactly the container's environment, in order
		sandbox bool
	}{
		{"pod-env", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []*corev1.EnvVar{
				{Name: "SERVICE_DISC_SERVICE_PORT", Value: "8080"},
				{Name: "DISC_URL", Value: "http://$(SERVICE_DISC_SERVICE_HOST):$(SERVICE_DISC_SERVICE_PORT)/info"},
			}
		}, clusterFirst, slices.Concat([]string{"SERVICE_DISC_SERVICE_PORT=8080", "DISC_URL=http://10.96.7.20:8080/info"}, kubeVars,
			slices.DeleteFunc(slices.Clone(discVars), func(v string) bool { return strings.HasPrefix(v, "SERVICE_DISC_SERVICE_PORT=") })), true},
		{"no-links", func(s *corev1.PodSpec) { s.EnableServiceLinks = proto.Bool(false); s.DnsPolicy = "Default" }, host, kubeVars, true},
		{"dns-none", func(s *corev1.PodSpec) {
			s.DnsPolicy = "None"
			s.DnsConfig = &corev1.PodDNSConfig{Nameservers: []string{"192.0.2.9"}, Searches: []string{"a.example"},
				Options: []*corev1.PodDNSConfigOption{{Name: "ndots", Value: proto.String("2")}}}
		}, "nameserver 192.0.2.9 | search a.example | options ndots:2", slices.Concat(kubeVars, discVars), true},
		{"host-net", func(s *corev1.PodSpec) { s.HostNetwork = true }, host, slices.Concat(kubeVars, discVars), true},
		{"host-net-cluster-first", func(s *corev1.PodSpec) { s.HostNetwork = true; s.DnsPolicy = "ClusterFirstWithHostNet" }, clusterFirst, slices.Concat(kubeVars, discVars), true},
	}
	for _, tt := range tests {
		spec := &corev1.PodSpec{NodeName: h.Nodes[0], Containers: []*corev1.Container{{Name: "c", Image: hollowImage}}}
		tt.edit(spec)
		if _, err := api.Client.Pods().Create(ctx, &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: tt.name}, Spec: spec}); err != nil {
			t.Fatalf("create pod %s: %v", tt.name, err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c fakeruntime.ContainerInfo
			harness.Poll(t, waitTimeout, "container c of pod "+tt.name+" is created", func() (bool, string) {
				var ok bool
				c, ok = rt.FindContainer("default", tt.name, "c")
				return ok, "not yet"
			})
			var sb *fakeruntime.SandboxInfo
			for _, s := range rt.Sandboxes() {
				if s.ID == c.SandboxID {
					sb = &s
				}
			}
			if sb == nil {
				t.Fatalf("no sandbox %s", c.SandboxID)
			}
			d := sb.DNS
			got := fmt.Sprintf("nameserver %s | search %s | options %s", strings.Join(d.GetServers(), " "), strings.Join(d.GetSearches(), " "), strings.Join(d.GetOptions(), " "))
			if got != tt.dns {
				t.Errorf("sandbox DNS\n got %s\nwant %s", got, tt.dns)
			}
			if !slices.Equal(c.Envs, tt.env) {
				t.Errorf("container env\n got %q\nwant %q", c.Envs, tt.env)
			}
		})
	}
}
