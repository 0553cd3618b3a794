//go:build e2e

package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// containerd writes the resolv.conf the kubelet gives the sandbox
// (ClusterFirst: the cluster DNS, the namespace's search domains, ndots:5,
// and the pod's dnsConfig merged in), and the container gets the variables
// of the Services of its namespace that existed when it started.
func TestPodResolvConfAndServiceEnv(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	ctx := context.Background()
	// An explicit address in the static band (10.96.0.0-10.96.0.255 minus
	// .1 and .10), which the allocator keeps for explicit requests and
	// never hands out automatically: random allocation for the other
	// tests' Services cannot take it first.
	const ip = "10.96.0.250"
	// Every pod also gets the variables of default/kubernetes, which the
	// apiserver keeps.
	master, err := cluster.CS.Services().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "kubernetes"})
	if err != nil {
		t.Fatalf("get default/kubernetes: %v", err)
	}
	if master.GetSpec().GetClusterIp() == "" || len(master.GetSpec().GetPorts()) == 0 {
		t.Fatalf("default/kubernetes has no clusterIP or port: %v", master.GetSpec())
	}
	masterIP, masterPort := master.GetSpec().GetClusterIp(), master.GetSpec().GetPorts()[0].GetPort()
	if _, err := cluster.CS.Services().Create(ctx, &corev1.Service{ApiVersion: "v1", Kind: "Service",
		Metadata: &metav1.ObjectMeta{Name: "svc-env", Namespace: ns},
		Spec: &corev1.ServiceSpec{ClusterIp: ip, Selector: map[string]string{"app": "none"},
			Ports: []*corev1.ServicePort{{Name: "web", Port: 80, Protocol: "TCP", TargetPort: structpb.NewNumberValue(9876)}}},
	}); err != nil {
		t.Fatalf("create Service: %v", err)
	}
	pod := seedPod(t, "jumpod.yaml")
	pod.Spec.Containers[0].Command = []string{"sleep", "3600"}
	pod.Spec.DnsConfig = &corev1.PodDNSConfig{Searches: []string{"extra.example"}, Options: []*corev1.PodDNSConfigOption{{Name: "edns0"}}}
	createPod(t, ns, pod)
	waitPod(t, ns, "jumpod", 60*time.Second, "Running", running)

	out, _, code := execIn(t, ns, "jumpod", "shell", "cat", "/etc/resolv.conf")
	if code != 0 {
		t.Fatalf("cat /etc/resolv.conf: exit %d", code)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			lines[k] = strings.TrimSpace(lines[k] + " " + v)
		}
	}
	if lines["nameserver"] != "10.96.0.10" {
		t.Errorf("nameserver %q, want 10.96.0.10:\n%s", lines["nameserver"], out)
	}
	if want := ns + ".svc.cluster.local svc.cluster.local cluster.local "; !strings.HasPrefix(lines["search"], want) || !strings.HasSuffix(lines["search"], " extra.example") {
		t.Errorf("search %q, want %s... extra.example:\n%s", lines["search"], want, out)
	}
	if lines["options"] != "ndots:5 edns0" {
		t.Errorf("options %q, want ndots:5 edns0:\n%s", lines["options"], out)
	}

	env, _, code := execIn(t, ns, "jumpod", "shell", "printenv")
	if code != 0 {
		t.Fatalf("printenv exit %d", code)
	}
	for _, want := range []string{"SVC_ENV_SERVICE_HOST=" + ip, "SVC_ENV_SERVICE_PORT=80", "SVC_ENV_SERVICE_PORT_WEB=80",
		"SVC_ENV_PORT=tcp://" + ip + ":80", "SVC_ENV_PORT_80_TCP_ADDR=" + ip, "SVC_ENV_PORT_80_TCP_PROTO=tcp",
		"KUBERNETES_SERVICE_HOST=" + masterIP, "KUBERNETES_SERVICE_PORT=" + strconv.Itoa(int(masterPort))} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("printenv lacks %s:\n%s", want, env)
		}
	}
}
