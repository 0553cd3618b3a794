package fields

import (
	"errors"
	"slices"
	"strings"
	"testing"

	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, resource, in string
		wantErr            string
	}{
		{name: "empty", resource: "pods", in: ""},
		{name: "pod node", resource: "pods", in: "spec.nodeName=k8s-s1"},
		{name: "pod phase and not ip", resource: "po", in: "status.phase==Running,status.podIP!=10.0.0.1"},
		{name: "metadata on any kind", resource: "deployments.apps", in: "metadata.name=deployment-09,metadata.namespace=default"},
		{name: "node unschedulable", resource: "nodes", in: "spec.unschedulable=false"},
		{name: "event involved object", resource: "events", in: "involvedObject.kind=Pod,involvedObject.name=second-pod,type=Warning"},
		{name: "secret type", resource: "secrets", in: "type=Opaque"},
		{name: "job successful", resource: "jobs", in: "status.successful=1"},
		{name: "unsupported field", resource: "pods", in: "spec.foo=bar", wantErr: "field label not supported: spec.foo"},
		{name: "field of another kind", resource: "services", in: "status.phase=Running", wantErr: "field label not supported: status.phase"},
		{name: "secret type is not a pod field", resource: "pods", in: "type=Opaque", wantErr: "field label not supported: type"},
		{name: "no operator", resource: "pods", in: "spec.nodeName", wantErr: `invalid field selector "spec.nodeName"`},
		{name: "unknown resource", resource: "widgets", in: "metadata.name=x", wantErr: `unknown resource "widgets"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.resource, tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q, %q) error = %v, want %q", tt.resource, tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.resource, tt.in, err)
			}
			if sel == nil {
				t.Fatal("nil selector")
			}
		})
	}
	t.Run("sentinel", func(t *testing.T) {
		if _, err := Parse("pods", "spec.foo=bar"); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("error %v does not wrap ErrNotSupported", err)
		}
	})
}

func TestSetMatches(t *testing.T) {
	pod := &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: "second-pod", Namespace: "default"},
		Spec:     &corev1.PodSpec{NodeName: "k8s-s1", RestartPolicy: "Always", SchedulerName: "default-scheduler"},
		Status:   &corev1.PodStatus{Phase: "Running", PodIps: []*corev1.PodIP{{Ip: "10.34.0.25"}}},
	}
	tests := []struct {
		name, resource, sel string
		obj                 proto.Message
		want                bool
	}{
		{"pod on node", "pods", "spec.nodeName=k8s-s1", pod, true},
		{"pod not on node", "pods", "spec.nodeName=k8s-s2", pod, false},
		{"unscheduled pods", "pods", "spec.nodeName=", &corev1.Pod{}, true},
		{"running in default", "pods", "status.phase=Running,metadata.namespace=default", pod, true},
		{"pod ip from podIPs", "pods", "status.podIP=10.34.0.25", pod, true},
		{"name not equal", "pods", "metadata.name!=second-pod", pod, false},
		{"schedulable node", "nodes", "spec.unschedulable=false", &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "k8s-s1"}}, true},
		{"cordoned node", "nodes", "spec.unschedulable=true", &corev1.Node{Spec: &corev1.NodeSpec{Unschedulable: true}}, true},
		{"active namespace", "namespaces", "status.phase=Active", &corev1.Namespace{Status: &corev1.NamespaceStatus{Phase: "Active"}}, true},
		{"opaque secret", "secrets", "type=Opaque", &corev1.Secret{Type: "Opaque"}, true},
		{"event for pod", "events", "involvedObject.kind=Pod,involvedObject.name=second-pod,source=kubelet", &corev1.Event{
			InvolvedObject: &corev1.ObjectReference{Kind: "Pod", Name: "second-pod"}, Source: &corev1.EventSource{Component: "kubelet"}}, true},
		{"event source falls back to reportingComponent", "events", "source=scheduler", &corev1.Event{ReportingComponent: "scheduler"}, true},
		{"job succeeded once", "jobs", "status.successful=1", &batchv1.Job{Status: &batchv1.JobStatus{Succeeded: 1}}, true},
		{"job not yet", "jobs", "status.successful=1", &batchv1.Job{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.resource, tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(Set(tt.obj)); got != tt.want {
				t.Fatalf("%q matches %v = %v, want %v", tt.sel, Set(tt.obj), got, tt.want)
			}
		})
	}
}

// TestSetAgreesWithSupported checks that, for every kind, Set yields
// exactly the fields Parse accepts.
func TestSetAgreesWithSupported(t *testing.T) {
	for _, k := range scheme.All() {
		t.Run(k.Resource, func(t *testing.T) {
			want, ok := Supported(k.Resource)
			if !ok {
				t.Fatalf("Supported(%q) unknown", k.Resource)
			}
			var got []string
			for f := range Set(k.New()) {
				got = append(got, f)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("Set keys %v, Supported %v", got, want)
			}
		})
	}
}
