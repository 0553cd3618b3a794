package deploy

import (
	"os/exec"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// TestChartObjectsAreKubernetes decodes every object the chart renders
// strictly into Kubernetes' own types (a misspelt or misplaced field fails),
// and checks that each workload's selector matches its pod template.
func TestChartObjectsAreKubernetes(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"defaults", nil},
		{"external etcd, replicas, persistence", []string{"etcd.embedded=false", "etcd.endpoints={http://etcd-0:2379}", "apiserver.replicas=3", "apiserver.persistence.enabled=true", "scheduler.replicas=2", "dns.service.clusterIP=", "dns.upstreams={192.0.2.53}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"template", "tugboat", chartDir}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, err := exec.Command(helm(t), args...).CombinedOutput()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, out)
			}
			kinds := map[string]int{}
			for _, doc := range strings.Split(string(out), "\n---") {
				var meta struct {
					Kind string `json:"kind"`
				}
				if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
					t.Fatal(err)
				}
				if meta.Kind == "" {
					continue
				}
				kinds[meta.Kind]++
				var obj any
				var selector map[string]string
				var podLabels map[string]string
				switch meta.Kind {
				case "Deployment":
					obj = &appsv1.Deployment{}
				case "DaemonSet":
					obj = &appsv1.DaemonSet{}
				case "Service":
					obj = &corev1.Service{}
				case "ConfigMap":
					obj = &corev1.ConfigMap{}
				case "Secret":
					obj = &corev1.Secret{}
				case "PersistentVolumeClaim":
					obj = &corev1.PersistentVolumeClaim{}
				default:
					t.Fatalf("unexpected kind %s", meta.Kind)
				}
				if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
					t.Fatalf("%s does not decode strictly: %v\n%s", meta.Kind, err, doc)
				}
				switch o := obj.(type) {
				case *appsv1.Deployment:
					selector, podLabels = o.Spec.Selector.MatchLabels, o.Spec.Template.Labels
				case *appsv1.DaemonSet:
					selector, podLabels = o.Spec.Selector.MatchLabels, o.Spec.Template.Labels
					if !o.Spec.Template.Spec.HostNetwork {
						t.Errorf("DaemonSet %s is not on the host network", o.Name)
					}
				}
				if selector != nil && !labels.SelectorFromSet(selector).Matches(labels.Set(podLabels)) {
					t.Errorf("%s: selector %v does not match its pod labels %v", meta.Kind, selector, podLabels)
				}
			}
			if kinds["Deployment"] != 4 || kinds["DaemonSet"] != 2 {
				t.Errorf("rendered %v: want 4 Deployments (apiserver, scheduler, controller-manager, dns) and 2 DaemonSets (kubelet, proxy)", kinds)
			}
		})
	}
}
