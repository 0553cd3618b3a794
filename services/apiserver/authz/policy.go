package authz

import (
	"context"
	"fmt"
	"slices"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var (
	read    = []string{"get", "list", "watch"}
	write   = []string{"create", "update", "patch", "delete", "deletecollection"}
	all     = []string{"*"}
	readAll = append(append([]string(nil), read...), write...)
)

func rule(verbs []string, group string, resources ...string) *rbacv1.PolicyRule {
	return &rbacv1.PolicyRule{Verbs: verbs, ApiGroups: []string{group}, Resources: resources}
}

func urls(verbs []string, paths ...string) *rbacv1.PolicyRule {
	return &rbacv1.PolicyRule{Verbs: verbs, NonResourceUrls: paths}
}

// workloadReads are what view grants (no secrets, as Kubernetes).
func workloadReads() []*rbacv1.PolicyRule {
	return []*rbacv1.PolicyRule{
		rule(read, "", "pods", "pods/log", "pods/status", "services", "services/status", "endpoints", "configmaps", "events", "namespaces", "namespaces/status", "replicationcontrollers", "persistentvolumeclaims", "serviceaccounts"),
		rule(read, "apps", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "daemonsets"),
		rule(read, "batch", "jobs", "jobs/status", "cronjobs", "cronjobs/status"),
		rule(read, coordinationAPI, "leases"),
	}
}

// workloadWrites are what edit adds to view.
func workloadWrites() []*rbacv1.PolicyRule {
	return []*rbacv1.PolicyRule{
		rule(readAll, "", "pods", "pods/exec", "pods/log", "services", "endpoints", "configmaps", "secrets", "events", "persistentvolumeclaims", "serviceaccounts"),
		rule(read, "", "secrets"),
		rule(readAll, "apps", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "daemonsets"),
		rule(readAll, "batch", "jobs", "cronjobs"),
		rule(readAll, coordinationAPI, "leases"),
	}
}

// DefaultClusterRoles are the cluster roles created at start when missing.
func DefaultClusterRoles() []*rbacv1.ClusterRole {
	view := workloadReads()
	edit := append(workloadReads(), workloadWrites()...)
	admin := append(append([]*rbacv1.PolicyRule(nil), edit...), rule(readAll, scheme.RBACGroup, "roles", "rolebindings"))
	roles := map[string][]*rbacv1.PolicyRule{
		"cluster-admin": {rule(all, "*", "*"), urls(all, "*")},
		"admin":         admin,
		"edit":          edit,
		"view":          view,
		"system:basic-user": {
			rule([]string{"create"}, "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
		},
		"system:discovery":          {urls([]string{"get"}, "/api", "/api/*", "/apis", "/apis/*", "/version", "/version/", "/openapi", "/openapi/*")},
		"system:public-info-viewer": {urls([]string{"get"}, "/healthz", "/livez", "/readyz", "/version", "/version/")},
		"system:kube-scheduler": {
			rule(read, "", "pods", "nodes", "namespaces", "services"),
			rule([]string{"create"}, "", "pods/binding", "bindings"),
			rule([]string{"update", "patch"}, "", "pods/status"),
			rule(read, "apps", "replicasets"),
			rule([]string{"create", "update", "patch"}, "", "events"),
			rule([]string{"get", "list", "watch", "create", "update"}, coordinationAPI, "leases"),
		},
		"system:kube-controller-manager": {
			rule(all, "", "*"),
			rule(all, "apps", "*"),
			rule(all, "batch", "*"),
			rule(all, coordinationAPI, "leases"),
			// The CSR approver and signer.
			rule(all, scheme.CertificatesGroup, "certificatesigningrequests", "certificatesigningrequests/approval", "certificatesigningrequests/status"),
			// The namespace controller and the garbage collector delete roles and bindings.
			rule([]string{"get", "list", "watch", "delete", "deletecollection"}, scheme.RBACGroup, "roles", "rolebindings"),
		},
		"system:node-proxier": {
			rule(read, "", "services", "endpoints", "nodes"),
			rule([]string{"create", "update", "patch"}, "", "events"),
		},
		// What tug-dns --publish-service writes is in the Role
		// system:kube-dns in kube-system (KubeDNSRole).
		"system:kube-dns": {rule(read, "", "services", "endpoints")},
		"system:node-bootstrapper": {
			rule([]string{"create", "get", "list", "watch"}, "certificates.k8s.io", "certificatesigningrequests"),
		},
		"system:node": {
			rule(read, "", "nodes", "pods", "services", "endpoints", "secrets", "configmaps", "namespaces"),
			rule([]string{"create", "update", "patch"}, "", "nodes", "nodes/status", "pods/status", "events"),
			rule([]string{"delete"}, "", "pods"),
			rule([]string{"get", "create", "update", "patch", "delete"}, coordinationAPI, "leases"),
		},
	}
	var out []*rbacv1.ClusterRole
	for _, name := range sortedNames(roles) {
		out = append(out, &rbacv1.ClusterRole{ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Metadata: defaultMeta(name), Rules: roles[name]})
	}
	return out
}

// DefaultClusterRoleBindings give the default roles to the system's users
// and groups. system:node is not bound: the node authoriser decides for kubelets.
func DefaultClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	group := func(n string) *rbacv1.Subject {
		return &rbacv1.Subject{Kind: "Group", ApiGroup: scheme.RBACGroup, Name: n}
	}
	user := func(n string) *rbacv1.Subject {
		return &rbacv1.Subject{Kind: "User", ApiGroup: scheme.RBACGroup, Name: n}
	}
	bindings := map[string][]*rbacv1.Subject{
		"cluster-admin":                  {group("system:masters")},
		"system:basic-user":              {group("system:authenticated")},
		"system:discovery":               {group("system:authenticated")},
		"system:public-info-viewer":      {group("system:authenticated"), group("system:unauthenticated")},
		"system:kube-scheduler":          {user("system:kube-scheduler")},
		"system:kube-controller-manager": {user("system:kube-controller-manager")},
		"system:node-proxier":            {user("system:kube-proxy")},
		"system:kube-dns":                {{Kind: "ServiceAccount", Name: "kube-dns", Namespace: "kube-system"}, user("system:kube-dns")},
		"system:node-bootstrapper":       {group("system:bootstrappers")},
	}
	var out []*rbacv1.ClusterRoleBinding
	for _, name := range sortedNames(bindings) {
		out = append(out, &rbacv1.ClusterRoleBinding{
			ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Metadata: defaultMeta(name),
			RoleRef:  &rbacv1.RoleRef{ApiGroup: scheme.RBACGroup, Kind: "ClusterRole", Name: name},
			Subjects: bindings[name],
		})
	}
	return out
}

func defaultMeta(name string) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{
		Name:        name,
		Labels:      map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"},
		Annotations: map[string]string{"rbac.authorization.kubernetes.io/autoupdate": "true"},
	}
}

// EnsureDefaults creates the default cluster roles and bindings, and the
// ServiceAccount kube-system/kube-dns, that are missing; existing ones
// (perhaps edited by an administrator) are kept.
func EnsureDefaults(ctx context.Context, reg *registry.Registry) error {
	create := func(resource string, obj proto.Message, name string) error {
		_, err := reg.Resource(resource).Create(ctx, obj)
		if err != nil && status.Code(apierr.FromError(err).Err()) != codes.AlreadyExists {
			return fmt.Errorf("create default %s %s: %w", resource, name, err)
		}
		return nil
	}
	for _, r := range DefaultClusterRoles() {
		if err := create("clusterroles", r, r.GetMetadata().GetName()); err != nil {
			return err
		}
	}
	for _, b := range DefaultClusterRoleBindings() {
		if err := create("clusterrolebindings", b, b.GetMetadata().GetName()); err != nil {
			return err
		}
	}
	for _, pair := range []func() (*rbacv1.Role, *rbacv1.RoleBinding){ClusterInfoRole, KubeDNSRole} {
		role, binding := pair()
		if err := create("roles", role, role.GetMetadata().GetNamespace()+"/"+role.GetMetadata().GetName()); err != nil {
			return err
		}
		if err := create("rolebindings", binding, binding.GetMetadata().GetNamespace()+"/"+binding.GetMetadata().GetName()); err != nil {
			return err
		}
	}
	// The kube-dns service account the bindings name: its tokens are
	// accepted only while it exists.
	sa := &corev1.ServiceAccount{ApiVersion: "v1", Kind: "ServiceAccount", Metadata: &metav1.ObjectMeta{Name: KubeDNSName, Namespace: KubeDNSNamespace}}
	return create("serviceaccounts", sa, KubeDNSNamespace+"/"+KubeDNSName)
}

// KubeDNSNamespace and KubeDNSName are the Service and Endpoints tug-dns
// --publish-service keeps.
const (
	KubeDNSNamespace = "kube-system"
	KubeDNSName      = "kube-dns"
)

// KubeDNSRole is the Role and RoleBinding in kube-system that let the DNS
// (user system:kube-dns, or the kube-dns service account) publish its
// Service and Endpoints: create services and endpoints there, and get,
// update and patch only those named kube-dns. Nothing else in any namespace
// is writable by it.
func KubeDNSRole() (*rbacv1.Role, *rbacv1.RoleBinding) {
	meta := func() *metav1.ObjectMeta {
		m := defaultMeta("system:kube-dns")
		m.Namespace = KubeDNSNamespace
		return m
	}
	role := &rbacv1.Role{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Metadata: meta(),
		Rules: []*rbacv1.PolicyRule{
			rule([]string{"create"}, "", "services", "endpoints"),
			{Verbs: []string{"get", "update", "patch"}, ApiGroups: []string{""}, Resources: []string{"services", "endpoints"}, ResourceNames: []string{KubeDNSName}},
		},
	}
	binding := &rbacv1.RoleBinding{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Metadata: meta(),
		RoleRef: &rbacv1.RoleRef{ApiGroup: scheme.RBACGroup, Kind: "Role", Name: "system:kube-dns"},
		Subjects: []*rbacv1.Subject{
			{Kind: "User", ApiGroup: scheme.RBACGroup, Name: "system:kube-dns"},
			{Kind: "ServiceAccount", Name: KubeDNSName, Namespace: KubeDNSNamespace},
		},
	}
	return role, binding
}

// ClusterInfoRole is kubeadm's Role and RoleBinding in kube-public that let
// system:anonymous get the cluster-info ConfigMap (nothing else), which a
// joining node reads before it trusts the cluster.
func ClusterInfoRole() (*rbacv1.Role, *rbacv1.RoleBinding) {
	meta := func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Name: clusterinfo.RoleName, Namespace: clusterinfo.Namespace}
	}
	role := &rbacv1.Role{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Metadata: meta(),
		Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{clusterinfo.Name}}},
	}
	binding := &rbacv1.RoleBinding{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Metadata: meta(),
		RoleRef:  &rbacv1.RoleRef{ApiGroup: scheme.RBACGroup, Kind: "Role", Name: clusterinfo.RoleName},
		Subjects: []*rbacv1.Subject{{Kind: "User", ApiGroup: scheme.RBACGroup, Name: "system:anonymous"}},
	}
	return role, binding
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
