package authz

import (
	"context"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
)

func TestDescribe(t *testing.T) {
	ctx := authn.WithUser(context.Background(), &authn.User{Name: "u"})
	tests := []struct {
		method string
		req    any
		want   Attributes
	}{
		{"/tugboat.core.v1.PodService/List", &metav1.ListOptions{Namespace: "a", FieldSelector: "spec.nodeName=n"},
			Attributes{Verb: "list", Resource: "pods", Namespace: "a", FieldSelector: "spec.nodeName=n"}},
		{"/tugboat.core.v1.PodService/Create", &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"}},
			Attributes{Verb: "create", Resource: "pods", Namespace: "default", Name: "p"}},
		{"/tugboat.core.v1.PodService/Bind", &corev1.Binding{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "b"}},
			Attributes{Verb: "create", Resource: "pods", Subresource: "binding", Namespace: "b", Name: "p"}},
		{"/tugboat.core.v1.PodService/Exec", &corev1.PodExecRequest{Msg: &corev1.PodExecRequest_Start{Start: &corev1.PodExecStart{Namespace: "c", Name: "p"}}},
			Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "c", Name: "p"}},
		{"/tugboat.core.v1.NodeService/UpdateStatus", &corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n1", Namespace: "ignored"}},
			Attributes{Verb: "update", Resource: "nodes", Subresource: "status", Name: "n1"}},
		{"/tugboat.apps.v1.DeploymentService/UpdateScale", &appsv1.Scale{Metadata: &metav1.ObjectMeta{Name: "d", Namespace: "x"}},
			Attributes{Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "x", Name: "d"}},
		{"/tugboat.rbac.v1.ClusterRoleService/Delete", &metav1.DeleteOptions{Name: "view"},
			Attributes{Verb: "delete", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "view"}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			got, ok := Describe(ctx, tt.method, tt.req)
			if !ok {
				t.Fatal("method not found")
			}
			tt.want.User, tt.want.ResourceRequest = got.User, true
			if got != tt.want || got.User.Name != "u" {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, ok := Describe(ctx, "/grpc.health.v1.Health/Check", nil); ok {
		t.Fatal("a method of no kind was described")
	}
	t.Run("patch from the REST layer", func(t *testing.T) {
		got, _ := Describe(authn.WithVerb(ctx, "patch"), "/tugboat.core.v1.PodService/Update", &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"}})
		if got.Verb != "patch" {
			t.Fatalf("verb %s", got.Verb)
		}
	})
	t.Run("raw first stream message", func(t *testing.T) {
		b, _ := proto.Marshal(&metav1.ListOptions{Namespace: "z"})
		got := DecodeFirst("/tugboat.core.v1.PodService/Watch", rawBytes(b))
		if lo, ok := got.(*metav1.ListOptions); !ok || lo.GetNamespace() != "z" {
			t.Fatalf("DecodeFirst = %v", got)
		}
	})
}

type rawBytes []byte

func (r rawBytes) Bytes() []byte { return r }

func TestDefaultPolicyValidates(t *testing.T) {
	for _, r := range DefaultClusterRoles() {
		if errs := validation.Validate(r); len(errs) > 0 {
			t.Errorf("cluster role %s: %v", r.GetMetadata().GetName(), errs)
		}
	}
	for _, b := range DefaultClusterRoleBindings() {
		if errs := validation.Validate(b); len(errs) > 0 {
			t.Errorf("binding %s: %v", b.GetMetadata().GetName(), errs)
		}
	}
}
