package validation

import (
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/protobuf/proto"
)

func TestRBAC(t *testing.T) {
	ref := &rbacv1.RoleRef{ApiGroup: rbacGroup, Kind: "ClusterRole", Name: "view"}
	user := &rbacv1.Subject{Kind: "User", ApiGroup: rbacGroup, Name: "alice"}
	nsMeta := &metav1.ObjectMeta{Name: "r", Namespace: "default"}
	tests := []struct {
		name    string
		obj     proto.Message
		wantErr string
	}{
		{"role ok", &rbacv1.Role{Metadata: nsMeta, Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods/log"}}}}, ""},
		{"cluster role name with colons", &rbacv1.ClusterRole{Metadata: &metav1.ObjectMeta{Name: "system:kube-scheduler"}}, ""},
		{"role name with slash", &rbacv1.Role{Metadata: &metav1.ObjectMeta{Name: "a/b", Namespace: "default"}}, "metadata.name: Invalid value: \"a/b\": may not contain '/' or '%'"},
		{"rule without verbs", &rbacv1.Role{Metadata: nsMeta, Rules: []*rbacv1.PolicyRule{{ApiGroups: []string{""}, Resources: []string{"pods"}}}}, "rules[0].verbs: Required value"},
		{"rule without groups", &rbacv1.Role{Metadata: nsMeta, Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}}, "rules[0].apiGroups: Required value"},
		{"rule without resources", &rbacv1.Role{Metadata: nsMeta, Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}}}}, "rules[0].resources: Required value"},
		{"namespaced non-resource URL", &rbacv1.Role{Metadata: nsMeta, Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceUrls: []string{"/healthz"}}}}, "rules[0].nonResourceURLs: Invalid value"},
		{"cluster role in a namespace", &rbacv1.ClusterRole{Metadata: nsMeta}, "metadata.namespace: Forbidden"},
		{"binding ok", &rbacv1.RoleBinding{Metadata: nsMeta, RoleRef: ref, Subjects: []*rbacv1.Subject{user}}, ""},
		{"binding wrong subject kind", &rbacv1.RoleBinding{Metadata: nsMeta, RoleRef: ref, Subjects: []*rbacv1.Subject{{Kind: "Robot", Name: "x"}}}, `subjects[0].kind: Unsupported value: "Robot"`},
		{"binding user in core group", &rbacv1.RoleBinding{Metadata: nsMeta, RoleRef: ref, Subjects: []*rbacv1.Subject{{Kind: "User", Name: "x"}}}, "subjects[0].apiGroup: Unsupported value"},
		{"binding without roleRef", &rbacv1.RoleBinding{Metadata: nsMeta}, "roleRef: Required value"},
		{"binding roleRef kind", &rbacv1.RoleBinding{Metadata: nsMeta, RoleRef: &rbacv1.RoleRef{ApiGroup: rbacGroup, Kind: "Pod", Name: "x"}}, `roleRef.kind: Unsupported value: "Pod"`},
		{"cluster binding to a Role", &rbacv1.ClusterRoleBinding{Metadata: &metav1.ObjectMeta{Name: "b"}, RoleRef: &rbacv1.RoleRef{ApiGroup: rbacGroup, Kind: "Role", Name: "x"}}, `roleRef.kind: Unsupported value: "Role"`},
		{"cluster binding SA without namespace", &rbacv1.ClusterRoleBinding{Metadata: &metav1.ObjectMeta{Name: "b"}, RoleRef: ref, Subjects: []*rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}}}, "subjects[0].namespace: Required value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.obj)
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("Validate: %v", errs)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want %q", errs, tt.wantErr)
			}
		})
	}
	t.Run("roleRef immutable", func(t *testing.T) {
		old := &rbacv1.ClusterRoleBinding{Metadata: &metav1.ObjectMeta{Name: "b", ResourceVersion: "1"}, RoleRef: ref}
		n := proto.Clone(old).(*rbacv1.ClusterRoleBinding)
		n.RoleRef.Name = "edit"
		if errs := ValidateUpdate(n, old); !strings.Contains(errs.Error(), "roleRef: Invalid value") || !strings.Contains(errs.Error(), "field is immutable") {
			t.Fatalf("ValidateUpdate = %v", errs)
		}
		n.RoleRef.Name = "view"
		n.Subjects = []*rbacv1.Subject{user}
		if errs := ValidateUpdate(n, old); len(errs) > 0 {
			t.Fatalf("changing subjects refused: %v", errs)
		}
	})
}
