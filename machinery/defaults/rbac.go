package defaults

import rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"

// subjects gives User and Group subjects the RBAC API group, as Kubernetes
// defaults them.
func subjects(ss []*rbacv1.Subject) {
	for _, s := range ss {
		if (s.GetKind() == "User" || s.GetKind() == "Group") && s.GetApiGroup() == "" {
			s.ApiGroup = "rbac.authorization.k8s.io"
		}
	}
}
