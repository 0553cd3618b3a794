package pods

import (
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/objects"
)

func TestReferences(t *testing.T) {
	k := func(n string) objects.Key { return objects.Key{Namespace: "ns", Name: n} }
	tests := []struct {
		name       string
		spec       *corev1.PodSpec
		secrets    []objects.Key
		configMaps []objects.Key
	}{
		{"none", &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c"}}}, nil, nil},
		{"volumes", &corev1.PodSpec{Volumes: []*corev1.Volume{
			{Name: "a", Secret: &corev1.SecretVolumeSource{SecretName: "s1"}},
			{Name: "b", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "c1"}},
			{Name: "e", EmptyDir: &corev1.EmptyDirVolumeSource{}},
		}}, []objects.Key{k("s1")}, []objects.Key{k("c1")}},
		{"env and envFrom of init and app containers", &corev1.PodSpec{
			InitContainers: []*corev1.Container{{Name: "i", EnvFrom: []*corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{Name: "s2"}}}}},
			Containers: []*corev1.Container{{Name: "c",
				EnvFrom: []*corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "c2"}}},
				Env: []*corev1.EnvVar{
					{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "s3", Key: "k"}}},
					{Name: "B", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "c3", Key: "k"}}},
					{Name: "C", Value: "plain"},
				},
			}},
		}, []objects.Key{k("s2"), k("s3")}, []objects.Key{k("c2"), k("c3")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, cms := references(&corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: tt.spec})
			if !slices.Equal(sec, tt.secrets) || !slices.Equal(cms, tt.configMaps) {
				t.Errorf("references = %v, %v; want %v, %v", sec, cms, tt.secrets, tt.configMaps)
			}
		})
	}
}
