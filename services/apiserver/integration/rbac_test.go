package integration

import (
	"net/http"
	"testing"
)

const roleYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "watch", "list"]
`

const roleBindingYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
`

// TestRBACKinds serves the four RBAC kinds over REST with kubectl: the
// default cluster roles are listed, a Role and its RoleBinding are created
// from manifests, and a binding's roleRef cannot change.
func TestRBACKinds(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	k := newKubectl(t, s)
	k.steps(t, []step{
		{name: "default cluster roles", args: []string{"get", "clusterroles"}, want: []string{"cluster-admin", "view", "edit", "system:kube-scheduler", "system:node-bootstrapper"}},
		{name: "default bindings", args: []string{"get", "clusterrolebindings", "cluster-admin", "-o", "jsonpath={.subjects[0].name}"}, want: []string{"system:masters"}},
		{name: "create role", stdin: roleYAML, args: []string{"create", "-f", "-"}, want: []string{"role.rbac.authorization.k8s.io/pod-reader created"}},
		{name: "create binding", stdin: roleBindingYAML, args: []string{"create", "-f", "-"}, want: []string{"rolebinding.rbac.authorization.k8s.io/read-pods created"}},
		{name: "get roles", args: []string{"get", "roles"}, want: []string{"pod-reader"}},
		{name: "role rules", args: []string{"get", "role", "pod-reader", "-o", "jsonpath={.rules[0].resources}"}, want: []string{`["pods","pods/log"]`}},
		{name: "bindings", args: []string{"get", "rolebindings", "read-pods", "-o", "jsonpath={.roleRef.kind}/{.roleRef.name} {.subjects[0].kind}/{.subjects[0].name}"}, want: []string{"Role/pod-reader User/jane"}},
		{name: "delete role", args: []string{"delete", "role", "pod-reader"}, want: []string{`role.rbac.authorization.k8s.io "pod-reader" deleted`}},
	})

	t.Run("roleRef is immutable", func(t *testing.T) {
		b := s.must(t, http.StatusOK, "GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/read-pods", nil)
		b["roleRef"] = obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}
		r := s.do(t, "PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/read-pods", b)
		if r.code != http.StatusUnprocessableEntity {
			t.Fatalf("PUT changing roleRef = %d %s, want 422", r.code, r.body)
		}
		if f := r.status(t).fields(); len(f) != 1 || f[0] != "roleRef" {
			t.Fatalf("fields %v, want roleRef", f)
		}
	})
	t.Run("bad subject kind", func(t *testing.T) {
		r := s.do(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", obj{
			"metadata": obj{"name": "bad"},
			"roleRef":  obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
			"subjects": []any{obj{"kind": "Robot", "name": "r2"}},
		})
		if r.code != http.StatusUnprocessableEntity {
			t.Fatalf("POST = %d %s, want 422", r.code, r.body)
		}
	})
}
