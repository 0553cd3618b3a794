package authz

import (
	"context"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

func TestUncovered(t *testing.T) {
	owned := []*rbacv1.PolicyRule{
		{Verbs: []string{"get", "list"}, ApiGroups: []string{""}, Resources: []string{"pods", "pods/log"}},
		{Verbs: []string{"*"}, ApiGroups: []string{"apps"}, Resources: []string{"deployments"}},
		{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}},
		{Verbs: []string{"update"}, ApiGroups: []string{"apps"}, Resources: []string{"*/scale"}},
		{Verbs: []string{"get"}, NonResourceUrls: []string{"/apis/*"}},
	}
	tests := []struct {
		name string
		rule *rbacv1.PolicyRule
		want int
	}{
		{"subset", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, 0},
		{"another verb", &rbacv1.PolicyRule{Verbs: []string{"delete"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, 1},
		{"verb wildcard owned", &rbacv1.PolicyRule{Verbs: []string{"patch", "delete"}, ApiGroups: []string{"apps"}, Resources: []string{"deployments"}}, 0},
		{"verb wildcard requested", &rbacv1.PolicyRule{Verbs: []string{"*"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, 1},
		{"named covered", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, 0},
		{"all names not covered by one", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}}, 1},
		{"subresource of any", &rbacv1.PolicyRule{Verbs: []string{"update"}, ApiGroups: []string{"apps"}, Resources: []string{"replicasets/scale"}}, 0},
		{"url prefix", &rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceUrls: []string{"/apis/apps"}}, 0},
		{"url outside", &rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceUrls: []string{"/metrics"}}, 1},
		{"two missing", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"secrets", "nodes", "pods"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := uncovered(owned, []*rbacv1.PolicyRule{tt.rule}); len(got) != tt.want {
				t.Fatalf("uncovered = %v, want %d missing", got, tt.want)
			}
		})
	}
}

func TestCheckEscalation(t *testing.T) {
	z := benchRBAC() // bench-user is bound to edit in ns
	z.snap.bindings["ns"] = append(z.snap.bindings["ns"], &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "a", Namespace: "ns"},
		RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects: []*rbacv1.Subject{{Kind: "User", Name: "nsadmin"}}})
	z.snap.roles["ns/pod-reader"] = []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}}
	chain := Chain{Masters{}, z}
	nsadmin := &authn.User{Name: "nsadmin", Groups: []string{"system:authenticated"}}
	write := func(u *authn.User, resource, ns string) Attributes {
		return Attributes{User: u, Verb: "create", ResourceRequest: true, APIGroup: "rbac.authorization.k8s.io", Resource: resource, Namespace: ns}
	}
	binding := func(kind, role string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "b", Namespace: "ns"},
			RoleRef: &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: kind, Name: role}, Subjects: []*rbacv1.Subject{{Kind: "User", Name: "x"}}}
	}
	tests := []struct {
		name    string
		a       Attributes
		obj     any
		wantErr string
	}{
		{"admin binds view", write(nsadmin, "rolebindings", "ns"), binding("ClusterRole", "view"), ""},
		{"admin binds a role it covers", write(nsadmin, "rolebindings", "ns"), binding("Role", "pod-reader"), ""},
		{"admin binds cluster-admin", write(nsadmin, "rolebindings", "ns"), binding("ClusterRole", "cluster-admin"),
			`user "nsadmin" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held: {APIGroups:["*"], Resources:["*"], Verbs:["*"]}`},
		{"admin writes a role of its own permissions", write(nsadmin, "roles", "ns"), &rbacv1.Role{Metadata: &metav1.ObjectMeta{Name: "r", Namespace: "ns"},
			Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"secrets"}}}}, ""},
		{"admin writes a role over nodes", write(nsadmin, "roles", "ns"), &rbacv1.Role{Metadata: &metav1.ObjectMeta{Name: "r", Namespace: "ns"},
			Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"nodes"}}}}, `{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`},
		{"admin's rights end at its namespace", write(nsadmin, "rolebindings", "other"), &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "b", Namespace: "other"},
			RoleRef: &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"}}, "not currently held"},
		{"masters are exempt", write(&authn.User{Name: "root", Groups: []string{"system:masters"}}, "clusterrolebindings", ""), &rbacv1.ClusterRoleBinding{Metadata: &metav1.ObjectMeta{Name: "b"},
			RoleRef: &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}}, ""},
		{"not an RBAC write", Attributes{User: nsadmin, Verb: "create", ResourceRequest: true, Resource: "pods", Namespace: "ns"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := z.CheckEscalation(context.Background(), chain, tt.a, tt.obj)
			if tt.wantErr == "" && got != "" || tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("CheckEscalation = %q, want %q", got, tt.wantErr)
			}
		})
	}
	t.Run("bind verb allows binding what it does not hold", func(t *testing.T) {
		z.snap.clusterRoles["binder"] = []*rbacv1.PolicyRule{{Verbs: []string{"bind"}, ApiGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, ResourceNames: []string{"cluster-admin"}}}
		z.snap.bindings["ns"] = append(z.snap.bindings["ns"], &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "c", Namespace: "ns"},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "binder"},
			Subjects: []*rbacv1.Subject{{Kind: "User", Name: "nsadmin"}}})
		z.decisions = map[string]Decision{}
		if got := z.CheckEscalation(context.Background(), chain, write(nsadmin, "rolebindings", "ns"), binding("ClusterRole", "cluster-admin")); got != "" {
			t.Fatalf("with bind on cluster-admin: %s", got)
		}
	})
}
