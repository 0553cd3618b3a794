package authz

import (
	"slices"
	"strings"

	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

// ruleAllows reports whether rule grants a, with Kubernetes' matching:
// "*" for every verb, group and resource, "*/<sub>" for a subresource of
// any resource, resourceNames restricting by name, non-resource URLs
// exactly or by a trailing "*".
func ruleAllows(r *rbacv1.PolicyRule, a Attributes) bool {
	if !matchAny(r.GetVerbs(), a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		for _, u := range r.GetNonResourceUrls() {
			if u == "*" || u == a.Path || strings.HasSuffix(u, "*") && strings.HasPrefix(a.Path, strings.TrimSuffix(u, "*")) {
				return true
			}
		}
		return false
	}
	if !matchAny(r.GetApiGroups(), a.APIGroup) || !resourceMatches(r.GetResources(), a) {
		return false
	}
	if len(r.GetResourceNames()) == 0 {
		return true
	}
	name := a.urlName()
	return name != "" && slices.Contains(r.GetResourceNames(), name)
}

func matchAny(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

func resourceMatches(resources []string, a Attributes) bool {
	combined := a.resourceString()
	for _, r := range resources {
		if r == "*" || r == combined {
			return true
		}
		if a.Subresource != "" && r == "*/"+a.Subresource {
			return true
		}
	}
	return false
}

// subjectMatches reports whether a binding's subject is u; ns is the
// binding's namespace, the default of a ServiceAccount subject's.
func subjectMatches(s *rbacv1.Subject, u *authn.User, ns string) bool {
	switch s.GetKind() {
	case "User":
		return s.GetName() == u.Name
	case "Group":
		return slices.Contains(u.Groups, s.GetName())
	case "ServiceAccount":
		sns := s.GetNamespace()
		if sns == "" {
			sns = ns
		}
		return u.Name == authn.ServiceAccountUserPrefix+sns+":"+s.GetName()
	}
	return false
}
