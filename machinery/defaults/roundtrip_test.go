package defaults

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// csrPEM is a certificate request (P-256, CN system:node:n1), made once.
var csrPEM = func() []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1"}}, key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}()

func meta(name string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: name, Namespace: "default"}
}

// minimalObjects holds one minimal valid object of every kind, as a user
// would write it (the namespace filled in, as the API server does).
func minimalObjects() []proto.Message {
	labels := map[string]string{"app": "web"}
	spec := func(restart string) *corev1.PodSpec {
		return &corev1.PodSpec{RestartPolicy: restart, Containers: []*corev1.Container{{
			Name: "web", Image: "nginx", Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
			Resources:     &corev1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi", "cpu": "500m"}},
			LivenessProbe: &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: nil}},
		}}}
	}
	withPort := func(s *corev1.PodSpec) *corev1.PodSpec {
		s.Containers[0].LivenessProbe.HttpGet.Port = intValue(80)
		return s
	}
	tmpl := func(restart string) *corev1.PodTemplateSpec {
		return &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: labels}, Spec: withPort(spec(restart))}
	}
	jobSpec := &batchv1.JobSpec{Template: &corev1.PodTemplateSpec{Spec: withPort(spec("Never"))}}
	return []proto.Message{
		&corev1.Pod{Metadata: meta("web"), Spec: withPort(spec(""))},
		&corev1.Service{Metadata: meta("web"), Spec: &corev1.ServiceSpec{Selector: labels, Ports: []*corev1.ServicePort{{Port: 80}}}},
		&corev1.Endpoints{Metadata: meta("web"), Subsets: []*corev1.EndpointSubset{{
			Addresses: []*corev1.EndpointAddress{{Ip: "10.244.0.5"}}, Ports: []*corev1.EndpointPort{{Port: 80}}}}},
		&corev1.Secret{Metadata: meta("creds"), StringData: map[string]string{"password": "x"}},
		&corev1.ConfigMap{Metadata: meta("conf"), Data: map[string]string{"k": "v"}},
		&corev1.ServiceAccount{Metadata: meta("builder"), AutomountServiceAccountToken: proto.Bool(false)},
		&corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}},
		&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "node-1"}, Status: &corev1.NodeStatus{Capacity: map[string]string{"cpu": "2"}}},
		&corev1.Event{Metadata: meta("web.1"), InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "web"}},
		&coordinationv1.Lease{Metadata: meta("node-1")},
		&appsv1.ReplicaSet{Metadata: meta("web-1"), Spec: &appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl("")}},
		&appsv1.Deployment{Metadata: meta("web"), Spec: &appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl("")}},
		&batchv1.Job{Metadata: &metav1.ObjectMeta{Name: "pi", Namespace: "default", Uid: "0f1e"}, Spec: proto.Clone(jobSpec).(*batchv1.JobSpec)},
		&batchv1.CronJob{Metadata: meta("nightly"), Spec: &batchv1.CronJobSpec{Schedule: "0 3 * * *",
			JobTemplate: &batchv1.JobTemplateSpec{Spec: proto.Clone(jobSpec).(*batchv1.JobSpec)}}},
		&rbacv1.Role{Metadata: meta("pod-reader"), Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}}},
		&rbacv1.ClusterRole{Metadata: &metav1.ObjectMeta{Name: "system:reader"}, Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceUrls: []string{"/healthz"}}}},
		&rbacv1.RoleBinding{Metadata: meta("read-pods"), RoleRef: &rbacv1.RoleRef{ApiGroup: scheme.RBACGroup, Kind: "Role", Name: "pod-reader"},
			Subjects: []*rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}}},
		&certificatesv1.CertificateSigningRequest{Metadata: &metav1.ObjectMeta{Name: "node-csr"}, Spec: &certificatesv1.CertificateSigningRequestSpec{
			Request: csrPEM, SignerName: "kubernetes.io/kube-apiserver-client-kubelet", Usages: []string{"client auth"}}},
		&rbacv1.ClusterRoleBinding{Metadata: &metav1.ObjectMeta{Name: "readers"}, RoleRef: &rbacv1.RoleRef{ApiGroup: scheme.RBACGroup, Kind: "ClusterRole", Name: "system:reader"},
			Subjects: []*rbacv1.Subject{{Kind: "Group", ApiGroup: scheme.RBACGroup, Name: "system:authenticated"}}},
	}
}

// TestDefaultedObjectsAreValid applies the defaults to a minimal object of
// every kind and validates the result, as the API server does on create.
func TestDefaultedObjectsAreValid(t *testing.T) {
	covered := map[string]bool{}
	for _, obj := range minimalObjects() {
		k, ok := scheme.ForMessage(obj)
		if !ok {
			t.Fatalf("%T is not in the scheme", obj)
		}
		covered[k.Kind] = true
		t.Run(k.Kind, func(t *testing.T) {
			if errs := validation.Validate(obj); len(errs) > 0 {
				t.Fatalf("minimal %s is invalid before defaulting: %v", k.Kind, errs)
			}
			Apply(obj)
			if errs := validation.Validate(obj); len(errs) > 0 {
				t.Fatalf("defaulted %s is invalid: %v", k.Kind, errs)
			}
			if errs := validation.ValidateUpdate(obj, proto.Clone(obj)); len(errs) > 0 {
				t.Fatalf("unchanged defaulted %s fails update validation: %v", k.Kind, errs)
			}
		})
	}
	for _, k := range scheme.All() {
		if !covered[k.Kind] {
			t.Errorf("no minimal object for %s", k.Kind)
		}
	}
}

// TestSeedPod is the pod of the seed walkthrough: valid as written and once defaulted.
func TestSeedPod(t *testing.T) {
	pod := &corev1.Pod{ApiVersion: "v1", Kind: "Pod", Metadata: meta("second-pod"), Spec: &corev1.PodSpec{Containers: []*corev1.Container{
		{Name: "sise", Image: "mhausenblas/simpleservice:0.5.0", Ports: []*corev1.ContainerPort{{ContainerPort: 9876}},
			Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi", "cpu": "500m"}}},
		{Name: "shell", Image: "centos:7", Command: []string{"bin/bash", "-c", "sleep 10000"}},
	}}}
	Apply(pod)
	if errs := validation.Validate(pod); len(errs) > 0 {
		t.Fatalf("seed pod invalid: %v", errs)
	}
	r := pod.Spec.Containers[0].Resources.Requests
	expect(t, "requests[cpu]", r["cpu"], "500m")
	expect(t, "requests[memory]", r["memory"], "64Mi")
	expect(t, "imagePullPolicy", pod.Spec.Containers[1].ImagePullPolicy, "IfNotPresent")
}

func intValue(n int) *structpb.Value { return structpb.NewNumberValue(float64(n)) }
