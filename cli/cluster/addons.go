package cluster

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/client/clientset"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// dnsPublisher names the Role and RoleBinding that let the cluster DNS
// (system:kube-dns, whose default role only reads) keep its Service
// kube-system/kube-dns and that Service's Endpoints, as kubeadm's DNS
// addon phase creates the DNS's objects as the admin.
// deploy/dns-rbac.yaml is the same for docker-compose.
const dnsPublisher = "tugboat:kube-dns-publisher"

// ensureAddonRBAC creates the DNS publisher's Role and RoleBinding in
// kube-system (kept when they exist).
func ensureAddonRBAC(ctx context.Context, cs *clientset.Set) error {
	const ns = "kube-system"
	role := &rbacv1.Role{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "Role",
		Metadata: &metav1.ObjectMeta{Name: dnsPublisher, Namespace: ns},
		Rules: []*rbacv1.PolicyRule{
			{Verbs: []string{"create"}, ApiGroups: []string{""}, Resources: []string{"services", "endpoints"}},
			{Verbs: []string{"get", "update"}, ApiGroups: []string{""}, Resources: []string{"services", "endpoints"}, ResourceNames: []string{"kube-dns"}},
		},
	}
	if _, err := cs.Roles().Create(ctx, role); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create role %s/%s: %w", ns, dnsPublisher, err)
	}
	binding := &rbacv1.RoleBinding{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding",
		Metadata: &metav1.ObjectMeta{Name: dnsPublisher, Namespace: ns},
		RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: dnsPublisher},
		Subjects: []*rbacv1.Subject{{Kind: "User", ApiGroup: "rbac.authorization.k8s.io", Name: DNSUser}},
	}
	if _, err := cs.RoleBindings().Create(ctx, binding); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create rolebinding %s/%s: %w", ns, dnsPublisher, err)
	}
	return nil
}
