package pods

import (
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

type mapSource struct {
	secrets map[string]*corev1.Secret
	cms     map[string]*corev1.ConfigMap
}

func (s mapSource) Secret(ns, name string) (*corev1.Secret, bool) {
	v, ok := s.secrets[ns+"/"+name]
	return v, ok
}

func (s mapSource) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	v, ok := s.cms[ns+"/"+name]
	return v, ok
}

func TestEnvs(t *testing.T) {
	src := mapSource{
		secrets: map[string]*corev1.Secret{"ns/db": {Data: map[string][]byte{"password": []byte("s3cret"), "user": []byte("admin")}}},
		cms:     map[string]*corev1.ConfigMap{"ns/conf": {Data: map[string]string{"MODE": "prod", "bad key": "x", "LEVEL": "debug"}}},
	}
	m := &Manager{cfg: Config{NodeIP: "192.0.2.10", Allocatable: map[string]string{"cpu": "4", "memory": "8Gi"}}, src: src}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "pod-env", Namespace: "ns", Labels: map[string]string{"app": "sise"}}, Spec: &corev1.PodSpec{NodeName: "node1"}}
	ref := func(vf *corev1.EnvVarSource) *corev1.EnvVar { return &corev1.EnvVar{ValueFrom: vf} }
	c := &corev1.Container{
		Name:      "sise",
		Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi"}, Requests: map[string]string{"cpu": "250m"}},
		EnvFrom: []*corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{Name: "conf"}},
			{Prefix: "DB_", SecretRef: &corev1.SecretEnvSource{Name: "db"}},
			{SecretRef: &corev1.SecretEnvSource{Name: "absent", Optional: proto.Bool(true)}},
		},
	}
	add := func(name string, e *corev1.EnvVar) { e.Name = name; c.Env = append(c.Env, e) }
	add("SIMPLE_SERVICE_VERSION", &corev1.EnvVar{Value: "1.0"})
	add("LEVEL", &corev1.EnvVar{Value: "info"})
	add("GREETING", &corev1.EnvVar{Value: "v$(SIMPLE_SERVICE_VERSION) $(UNDEFINED) $$(SIMPLE_SERVICE_VERSION)"})
	add("PASSWORD", ref(&corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "db", Key: "password"}}))
	add("OPTIONAL", ref(&corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "db", Key: "nope", Optional: proto.Bool(true)}}))
	add("MODE2", ref(&corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "conf", Key: "MODE"}}))
	add("POD_NAME", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}))
	add("POD_NS", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}))
	add("POD_IP", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}))
	add("NODE", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}))
	add("APP", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}))
	add("MEM_MI", ref(&corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: "1Mi"}}))
	add("CPU_REQ_M", ref(&corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.cpu", Divisor: "1m"}}))
	add("CPU_LIM", ref(&corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}))
	kvs, err := m.envs(pod, c, "10.244.0.7")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range kvs {
		got = append(got, kv.GetKey()+"="+string(kv.GetValue()))
	}
	want := "LEVEL=info MODE=prod DB_password=s3cret DB_user=admin SIMPLE_SERVICE_VERSION=1.0 GREETING=v1.0 $(UNDEFINED) $(SIMPLE_SERVICE_VERSION) " +
		"PASSWORD=s3cret MODE2=prod POD_NAME=pod-env POD_NS=ns POD_IP=10.244.0.7 NODE=node1 APP=sise MEM_MI=64 CPU_REQ_M=250 CPU_LIM=4"
	if strings.Join(got, " ") != want {
		t.Errorf("envs:\n got %s\nwant %s", strings.Join(got, " "), want)
	}

	if got := expandAll([]string{"echo", "$(POD_NAME) in $(POD_NS)", "$(NOPE)"}, kvs); strings.Join(got, "|") != "echo|pod-env in ns|$(NOPE)" {
		t.Errorf("command expands to %q", got)
	}

	for _, tt := range []struct {
		name string
		env  *corev1.EnvVar
		want string
	}{
		{"missing key", ref(&corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "db", Key: "token"}}), "env X: couldn't find key token in Secret ns/db"},
		{"missing secret", ref(&corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "apikey", Key: "k"}}), `env X: secret "apikey" not found`},
		{"missing config map key", ref(&corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "conf", Key: "nope"}}), "env X: couldn't find key nope in ConfigMap ns/conf"},
		{"unknown field", ref(&corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}), `env X: fieldRef "spec.bogus" is not supported`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.Name = "X"
			_, err := m.envs(pod, &corev1.Container{Name: "c", Env: []*corev1.EnvVar{tt.env}}, "")
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
