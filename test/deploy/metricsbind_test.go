package deploy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChartMetricsBindPodAddress: no component serves its plaintext
// metrics port on 0.0.0.0; each binds the address the downward API gives
// it (the pod's IP, or the node's for the host-network DaemonSets).
func TestChartMetricsBindPodAddress(t *testing.T) {
	r := renderObjects(t)
	pods := map[string]corev1.PodSpec{}
	for name, d := range r.deployments {
		pods[name] = d.Spec.Template.Spec
	}
	for name, d := range r.daemonSets {
		pods[name] = d.Spec.Template.Spec
	}
	want := map[string]string{
		"tugboat-apiserver": "status.podIP", "tugboat-scheduler": "status.podIP", "tugboat-controller-manager": "status.podIP",
		"tugboat-dns": "status.podIP", "tugboat-kubelet": "status.hostIP", "tugboat-proxy": "status.hostIP",
	}
	seen := 0
	for name, pod := range pods {
		for _, c := range pod.Containers {
			addr, ok := flagValue(c.Args, "metrics-address")
			if !ok {
				continue
			}
			seen++
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				host, _, found := strings.Cut(addr, ":")
				if !found || !strings.HasPrefix(host, "$(") || !strings.HasSuffix(host, ")") {
					t.Fatalf("--metrics-address=%s: want $(VAR):port from the downward API", addr)
				}
				variable := strings.TrimSuffix(strings.TrimPrefix(host, "$("), ")")
				var field string
				for _, e := range c.Env {
					if e.Name == variable && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
						field = e.ValueFrom.FieldRef.FieldPath
					}
				}
				if field != want[name] {
					t.Errorf("$(%s) comes from %q, want the downward API's %s", variable, field, want[name])
				}
			})
		}
	}
	if seen != len(want) {
		t.Errorf("%d containers set --metrics-address, want %d", seen, len(want))
	}
}
