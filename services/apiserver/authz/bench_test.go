package authz

import (
	"context"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc"
)

// BenchmarkGuardCreate is the authorisation of one pod create by a user
// bound to edit, from the decision cache, in parallel.
func BenchmarkGuardCreate(b *testing.B) {
	roles := map[string][]*rbacv1.PolicyRule{}
	for _, r := range DefaultClusterRoles() {
		roles[r.GetMetadata().GetName()] = r.GetRules()
	}
	z := &RBAC{decisions: map[string]Decision{}}
	z.snap = &snapshot{clusterRoles: roles, roles: map[string][]*rbacv1.PolicyRule{}, clusterBindings: DefaultClusterRoleBindings(),
		bindings: map[string][]*rbacv1.RoleBinding{"ns": {{Metadata: &metav1.ObjectMeta{Name: "b", Namespace: "ns"},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects: []*rbacv1.Subject{{Kind: "User", Name: "bench-user"}}}}}}
	z.snapGen = z.generation.Load()
	g := NewGuard(Chain{Masters{}, &Node{podNode: map[string]string{}, refs: map[string]map[string]int{}}, z}, nil)
	in := g.UnaryServerInterceptor()
	ctx := authn.WithUser(context.Background(), &authn.User{Name: "bench-user", Groups: []string{"system:authenticated"}})
	info := &grpc.UnaryServerInfo{FullMethod: "/tugboat.core.v1.PodService/Create"}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	h := func(context.Context, any) (any, error) { return nil, nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := in(ctx, pod, info, h); err != nil {
				b.Fatal(err)
			}
		}
	})
}
