package authz

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/cache"
)

// Escalation prevention, as Kubernetes': creating or updating a Role or
// ClusterRole needs every permission it grants, or the verb escalate on
// it; creating or updating a binding needs every permission of the role it
// refers to (in the binding's namespace, or cluster-wide), or the verb bind
// on that role. system:masters is exempt.

// rulesFor returns the rules u holds cluster-wide and, when ns is set, in ns.
func (s *snapshot) rulesFor(u *authn.User, ns string) []*rbacv1.PolicyRule {
	var out []*rbacv1.PolicyRule
	for _, b := range s.clusterBindings {
		if b.GetRoleRef().GetKind() == "ClusterRole" && anySubject(b.GetSubjects(), u, "") {
			out = append(out, s.clusterRoles[b.GetRoleRef().GetName()]...)
		}
	}
	if ns == "" {
		return out
	}
	for _, b := range s.bindings[ns] {
		if !anySubject(b.GetSubjects(), u, ns) {
			continue
		}
		switch b.GetRoleRef().GetKind() {
		case "Role":
			out = append(out, s.roles[cache.Key(ns, b.GetRoleRef().GetName())]...)
		case "ClusterRole":
			out = append(out, s.clusterRoles[b.GetRoleRef().GetName()]...)
		}
	}
	return out
}

// uncovered returns the requested rules that owned does not cover, each
// reduced to one missing permission.
func uncovered(owned, requested []*rbacv1.PolicyRule) []string {
	var missing []string
	for _, r := range requested {
		for _, verb := range r.GetVerbs() {
			if len(r.GetNonResourceUrls()) > 0 {
				for _, u := range r.GetNonResourceUrls() {
					if !anyCovers(owned, func(o *rbacv1.PolicyRule) bool {
						return covers(o.GetVerbs(), verb) && urlCovers(o.GetNonResourceUrls(), u)
					}) {
						missing = append(missing, fmt.Sprintf("{NonResourceURLs:[%q], Verbs:[%q]}", u, verb))
					}
				}
				continue
			}
			for _, g := range r.GetApiGroups() {
				for _, res := range r.GetResources() {
					names := r.GetResourceNames()
					if len(names) == 0 {
						names = []string{""}
					}
					for _, name := range names {
						if !anyCovers(owned, func(o *rbacv1.PolicyRule) bool {
							return covers(o.GetVerbs(), verb) && covers(o.GetApiGroups(), g) && resourceCovers(o.GetResources(), res) && nameCovers(o.GetResourceNames(), name)
						}) {
							m := fmt.Sprintf("{APIGroups:[%q], Resources:[%q], Verbs:[%q]", g, res, verb)
							if name != "" {
								m += fmt.Sprintf(", ResourceNames:[%q]", name)
							}
							missing = append(missing, m+"}")
						}
					}
				}
			}
		}
	}
	return missing
}

func anyCovers(owned []*rbacv1.PolicyRule, f func(*rbacv1.PolicyRule) bool) bool {
	for _, o := range owned {
		if f(o) {
			return true
		}
	}
	return false
}

// covers: an owned "*" covers anything; otherwise only the same value (a
// requested "*" needs an owned "*").
func covers(owned []string, v string) bool {
	for _, o := range owned {
		if o == "*" || o == v {
			return true
		}
	}
	return false
}

// resourceCovers adds "*/sub" covering "<any>/sub".
func resourceCovers(owned []string, res string) bool {
	if covers(owned, res) {
		return true
	}
	if i := strings.IndexByte(res, '/'); i >= 0 {
		return covers(owned, "*/"+res[i+1:])
	}
	return false
}

// nameCovers: owned rules without names cover every name; a requested
// rule without names ("") needs one.
func nameCovers(owned []string, name string) bool {
	if len(owned) == 0 {
		return true
	}
	return name != "" && covers(owned, name)
}

func urlCovers(owned []string, u string) bool {
	for _, o := range owned {
		if o == "*" || o == u || strings.HasSuffix(o, "*") && strings.HasPrefix(u, strings.TrimSuffix(o, "*")) {
			return true
		}
	}
	return false
}

// rbacResources are the kinds whose writes are checked for escalation.
var rbacResources = map[string]bool{"roles": true, "clusterroles": true, "rolebindings": true, "clusterrolebindings": true}

// CheckEscalation refuses a create or update of a role or binding that
// would grant u permissions it does not hold (see above); reason is empty
// when the write may go ahead.
func (z *RBAC) CheckEscalation(ctx context.Context, authz Authorizer, a Attributes, obj any) string {
	if a.APIGroup != scheme.RBACGroup || !rbacResources[a.Resource] || (a.Verb != "create" && a.Verb != "update" && a.Verb != "patch") || a.User.InGroup(authn.GroupMasters) {
		return ""
	}
	snap := z.current()
	var requested []*rbacv1.PolicyRule
	ns := a.Namespace
	switch o := obj.(type) {
	case *rbacv1.Role:
		requested = o.GetRules()
		if allowed(ctx, authz, a, "escalate", "roles", o.GetMetadata().GetName()) {
			return ""
		}
	case *rbacv1.ClusterRole:
		requested = o.GetRules()
		if allowed(ctx, authz, a, "escalate", "clusterroles", o.GetMetadata().GetName()) {
			return ""
		}
	case *rbacv1.RoleBinding:
		requested = bindingRules(snap, o.GetRoleRef(), ns)
		if allowed(ctx, authz, a, "bind", strings.ToLower(o.GetRoleRef().GetKind())+"s", o.GetRoleRef().GetName()) {
			return ""
		}
	case *rbacv1.ClusterRoleBinding:
		requested = bindingRules(snap, o.GetRoleRef(), "")
		if allowed(ctx, authz, a, "bind", "clusterroles", o.GetRoleRef().GetName()) {
			return ""
		}
	default:
		return ""
	}
	missing := uncovered(snap.rulesFor(a.User, ns), requested)
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held: %s", a.User.Name, a.User.Groups, strings.Join(missing, ", "))
}

// bindingRules are the rules of the role a binding refers to (none when it
// does not exist yet: binding to a missing role grants nothing until it is
// created, and creating that role is checked then).
func bindingRules(s *snapshot, ref *rbacv1.RoleRef, ns string) []*rbacv1.PolicyRule {
	if ref.GetKind() == "Role" {
		return s.roles[cache.Key(ns, ref.GetName())]
	}
	return s.clusterRoles[ref.GetName()]
}

// allowed asks the authoriser whether a's user may verb the RBAC resource name.
func allowed(ctx context.Context, z Authorizer, a Attributes, verb, resource, name string) bool {
	// In the namespace of the write: a RoleBinding there may bind a
	// ClusterRole its writer may bind in that namespace.
	b := Attributes{User: a.User, Verb: verb, ResourceRequest: true, APIGroup: scheme.RBACGroup, Resource: resource, Namespace: a.Namespace, Name: name}
	d, _ := z.Authorize(ctx, b)
	return d == Allow
}
