package validation

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/defaults"
)

// benchPod is a pod like the apiserver benchmark's: labels, annotations, a
// container with args, a port, env, resources and a probe.
func benchPod() *corev1.Pod {
	p := seedPod()
	p.Metadata.Labels = map[string]string{"app": "bench", "tier": "backend", "app.kubernetes.io/name": "bench"}
	p.Metadata.Annotations = map[string]string{"example.com/owner": "team-a"}
	c := p.Spec.Containers[0]
	c.Args = []string{"--port", "9876"}
	c.Env = []*corev1.EnvVar{{Name: "SIMPLE_SERVICE_VERSION", Value: "0.9"}}
	c.ReadinessProbe = &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Path: "/health", Port: num(9876)}}
	defaults.Apply(p)
	return p
}

func BenchmarkValidatePod(b *testing.B) {
	p := benchPod()
	if errs := Validate(p); len(errs) > 0 {
		b.Fatalf("bench pod invalid: %v", errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		Validate(p)
	}
}
