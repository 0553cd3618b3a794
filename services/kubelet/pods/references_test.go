package pods

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tugboat-sh/tugboat/client/informer"

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

func TestWatchedObjectsGauge(t *testing.T) {
	var sc corev1.SecretServiceClient
	var cc corev1.ConfigMapServiceClient
	// Never run: registering only makes the watches, which the gauge counts.
	s := &Sources{
		secrets:    objects.New("Secret", func(o informer.Options) *informer.Informer[*corev1.Secret] { return informer.New(sc, o) }, nil),
		configMaps: objects.New("ConfigMap", func(o informer.Options) *informer.Informer[*corev1.ConfigMap] { return informer.New(cc, o) }, nil),
	}
	reg := prometheus.NewRegistry()
	if err := s.Register(reg); err != nil {
		t.Fatal(err)
	}
	pod := func(uid string, secrets ...string) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "ns", Name: uid, Uid: uid}, Spec: &corev1.PodSpec{}}
		for _, n := range secrets {
			p.Spec.Volumes = append(p.Spec.Volumes, &corev1.Volume{Name: n, Secret: &corev1.SecretVolumeSource{SecretName: n}})
		}
		p.Spec.Volumes = append(p.Spec.Volumes, &corev1.Volume{Name: "cm", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "cm"}})
		return p
	}
	s.registerPod(pod("a", "s1", "s2"))
	s.registerPod(pod("b", "s2"))
	want := `
# HELP tugboat_kubelet_watched_objects Secrets and config maps the node's pods use, each watched by name.
# TYPE tugboat_kubelet_watched_objects gauge
tugboat_kubelet_watched_objects{kind="ConfigMap"} 1
tugboat_kubelet_watched_objects{kind="Secret"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	s.forgetPod(pod("a"))
	s.forgetPod(pod("b"))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.NewReplacer("} 1", "} 0", "} 2", "} 0").Replace(want))); err != nil {
		t.Error(err)
	}
}
