package validation

import (
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// rbacGroup is the API group of roles and bindings (and of User and Group subjects).
const rbacGroup = "rbac.authorization.k8s.io"

func validateRole(r *rbacv1.Role) List {
	errs := validateMeta(r.GetMetadata(), metaOpts{namespaced: true, name: names.PathSegment})
	return append(errs, rules(path("rules"), r.GetRules(), true)...)
}

func validateClusterRole(r *rbacv1.ClusterRole) List {
	errs := validateMeta(r.GetMetadata(), metaOpts{name: names.PathSegment})
	return append(errs, rules(path("rules"), r.GetRules(), false)...)
}

func validateRoleBinding(b *rbacv1.RoleBinding) List {
	errs := validateMeta(b.GetMetadata(), metaOpts{namespaced: true, name: names.PathSegment})
	errs = append(errs, roleRef(b.GetRoleRef(), "Role", "ClusterRole")...)
	return append(errs, subjects(b.GetSubjects(), true)...)
}

func validateClusterRoleBinding(b *rbacv1.ClusterRoleBinding) List {
	errs := validateMeta(b.GetMetadata(), metaOpts{name: names.PathSegment})
	errs = append(errs, roleRef(b.GetRoleRef(), "ClusterRole")...)
	return append(errs, subjects(b.GetSubjects(), false)...)
}

// rules checks policy rules as Kubernetes does: verbs always; resource rules
// need API groups and resources; non-resource URLs only in cluster roles and
// never mixed with resources.
func rules(p path, rs []*rbacv1.PolicyRule, namespaced bool) List {
	var errs List
	for i, r := range rs {
		rp := p.index(i)
		if len(r.GetVerbs()) == 0 {
			errs = append(errs, required(rp.child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.GetNonResourceUrls()) > 0 {
			if namespaced || len(r.GetApiGroups()) > 0 || len(r.GetResources()) > 0 {
				errs = append(errs, invalid(rp.child("nonResourceURLs"), r.GetNonResourceUrls(), "namespaced rules cannot apply to non-resource URLs, and rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.GetApiGroups()) == 0 {
			errs = append(errs, required(rp.child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.GetResources()) == 0 {
			errs = append(errs, required(rp.child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func roleRef(r *rbacv1.RoleRef, kinds ...string) List {
	p := path("roleRef")
	if r == nil {
		return List{required(p, "")}
	}
	var errs List
	if r.GetApiGroup() != rbacGroup {
		errs = append(errs, notSupported(p.child("apiGroup"), r.GetApiGroup(), rbacGroup))
	}
	errs = append(errs, oneOf(p.child("kind"), r.GetKind(), kinds...)...)
	if r.GetName() == "" {
		errs = append(errs, required(p.child("name"), ""))
	} else {
		errs = append(errs, check(p.child("name"), r.GetName(), names.PathSegment(r.GetName()))...)
	}
	return errs
}

// subjects: a ServiceAccount in the core group with a name (and, in a
// cluster binding, a namespace); a User or Group in the RBAC group.
func subjects(ss []*rbacv1.Subject, namespaced bool) List {
	var errs List
	for i, s := range ss {
		p := path("subjects").index(i)
		if s.GetName() == "" {
			errs = append(errs, required(p.child("name"), ""))
		}
		switch s.GetKind() {
		case "ServiceAccount":
			if s.GetApiGroup() != "" {
				errs = append(errs, notSupported(p.child("apiGroup"), s.GetApiGroup(), ""))
			}
			if s.GetName() != "" {
				errs = append(errs, check(p.child("name"), s.GetName(), names.Subdomain(s.GetName()))...)
			}
			if !namespaced && s.GetNamespace() == "" {
				errs = append(errs, required(p.child("namespace"), ""))
			}
		case "User", "Group":
			if s.GetApiGroup() != rbacGroup {
				errs = append(errs, notSupported(p.child("apiGroup"), s.GetApiGroup(), rbacGroup))
			}
		default:
			errs = append(errs, notSupported(p.child("kind"), s.GetKind(), "ServiceAccount", "User", "Group"))
		}
	}
	return errs
}
