package authz

import (
	"context"
	"strings"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fakeStream is a server stream whose first message is a ListOptions.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

func (s fakeStream) RecvMsg(m any) error {
	if o, ok := m.(*metav1.ListOptions); ok {
		o.Namespace = "default"
	}
	return nil
}

// TestGuardRefusesUnknownMethods: with a guard, a method the authoriser
// cannot describe is PermissionDenied naming it, even for system:masters,
// unary or streaming; a known one goes on.
func TestGuardRefusesUnknownMethods(t *testing.T) {
	g := NewGuard(Chain{Masters{}}, nil, nil)
	admin := authn.WithUser(context.Background(), &authn.User{Name: "admin", Groups: []string{authn.GroupMasters}})
	called := false
	unary := func(context.Context, any) (any, error) { called = true; return nil, nil }
	stream := func(any, grpc.ServerStream) error { called = true; return nil }
	tests := []struct {
		name, method string
		streaming    bool
		wantErr      string
	}{
		{"known unary", "/tugboat.core.v1.PodService/Get", false, ""},
		{"known stream", "/tugboat.core.v1.PodService/Watch", true, ""},
		{"unknown unary", "/tugboat.core.v1.PodService/Attach", false, "method /tugboat.core.v1.PodService/Attach is forbidden"},
		{"unknown service", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", true, "method /grpc.reflection.v1.ServerReflection/ServerReflectionInfo is forbidden"},
		{"kubelet's service", "/tugboat.kubelet.v1.KubeletService/Log", true, "method /tugboat.kubelet.v1.KubeletService/Log is forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called = false
			var err error
			if tt.streaming {
				err = g.StreamServerInterceptor()(nil, fakeStream{ctx: admin}, &grpc.StreamServerInfo{FullMethod: tt.method}, func(srv any, ss grpc.ServerStream) error {
					var o metav1.ListOptions
					if err := ss.RecvMsg(&o); err != nil {
						return err
					}
					return stream(srv, ss)
				})
			} else {
				_, err = g.UnaryServerInterceptor()(admin, &metav1.GetOptions{Namespace: "default", Name: "p"}, &grpc.UnaryServerInfo{FullMethod: tt.method}, unary)
			}
			if tt.wantErr == "" {
				if err != nil || !called {
					t.Fatalf("err %v, handler called %v; want it served", err, called)
				}
				return
			}
			if st := status.Convert(err); st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), tt.wantErr) || called {
				t.Fatalf("err %v, handler called %v; want PermissionDenied %q", err, called, tt.wantErr)
			}
		})
	}
}

// TestEveryServedMethodIsKnown: every method of the API services the
// apiserver serves is described by the authoriser, so the guard refuses
// none of them.
func TestEveryServedMethodIsKnown(t *testing.T) {
	files := []protoreflect.FileDescriptor{
		corev1.File_tugboat_core_v1_services_proto, appsv1.File_tugboat_apps_v1_services_proto, batchv1.File_tugboat_batch_v1_services_proto,
		rbacv1.File_tugboat_rbac_v1_services_proto, coordinationv1.File_tugboat_coordination_v1_services_proto,
		certificatesv1.File_tugboat_certificates_v1_services_proto,
	}
	n := 0
	for _, fd := range files {
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := "/" + string(svc.FullName()) + "/" + string(svc.Methods().Get(j).Name())
				n++
				if _, ok := lookupMethod(m); !ok {
					t.Errorf("the authoriser does not know %s", m)
				}
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d methods checked", n)
	}
}
