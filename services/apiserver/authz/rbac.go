package authz

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/cache"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// decisionCacheSize bounds the decisions kept between RBAC changes.
const decisionCacheSize = 8192

// RBAC authorises from Roles, ClusterRoles and their bindings, mirrored in
// memory. Each change bumps a generation; the next request rebuilds the
// snapshot it evaluates and drops the cached decisions.
type RBAC struct {
	roles, clusterRoles, bindings, clusterBindings *cache.Cache

	generation atomic.Int64

	mu        sync.Mutex
	snap      *snapshot
	snapGen   int64
	decisions map[string]Decision
}

// snapshot is the policy at one generation.
type snapshot struct {
	clusterRoles    map[string][]*rbacv1.PolicyRule
	roles           map[string][]*rbacv1.PolicyRule // namespace/name
	clusterBindings []*rbacv1.ClusterRoleBinding
	bindings        map[string][]*rbacv1.RoleBinding // by namespace
}

// NewRBAC mirrors the four kinds of reg; Run keeps the mirrors current.
func NewRBAC(reg *registry.Registry, log *zap.Logger) *RBAC {
	z := &RBAC{decisions: map[string]Decision{}}
	z.generation.Store(1)
	bump := func(_, _ proto.Message) { z.generation.Add(1) }
	z.roles = cache.New(reg.Resource("roles"), nil, bump, log)
	z.clusterRoles = cache.New(reg.Resource("clusterroles"), nil, bump, log)
	z.bindings = cache.New(reg.Resource("rolebindings"), nil, bump, log)
	z.clusterBindings = cache.New(reg.Resource("clusterrolebindings"), nil, bump, log)
	return z
}

// Run runs the mirrors until ctx ends.
func (z *RBAC) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range []*cache.Cache{z.roles, z.clusterRoles, z.bindings, z.clusterBindings} {
		wg.Go(func() { c.Run(ctx) })
	}
	wg.Wait()
}

// WaitSynced waits for the first list of every kind.
func (z *RBAC) WaitSynced(ctx context.Context) bool {
	for _, c := range []*cache.Cache{z.roles, z.clusterRoles, z.bindings, z.clusterBindings} {
		if !c.WaitSynced(ctx) {
			return false
		}
	}
	return true
}

// Authorize allows what a binding of the user grants; otherwise it has no opinion.
func (z *RBAC) Authorize(_ context.Context, a Attributes) (Decision, string) {
	if a.User == nil {
		return NoOpinion, ""
	}
	key := decisionKey(a)
	z.mu.Lock()
	snap := z.currentLocked()
	gen := z.snapGen
	if d, ok := z.decisions[key]; ok {
		z.mu.Unlock()
		return d, ""
	}
	z.mu.Unlock()

	d := snap.decide(a)
	z.mu.Lock()
	// A decision made from a snapshot that a role or binding change has
	// since replaced is answered but not cached: cached, it could outlive
	// a revoked binding.
	if z.snapGen == gen && z.generation.Load() == gen {
		if len(z.decisions) >= decisionCacheSize {
			clear(z.decisions)
		}
		z.decisions[key] = d
	}
	z.mu.Unlock()
	return d, ""
}

// currentLocked returns the snapshot of the current generation, rebuilding
// it (and dropping the cached decisions) after a change; z.mu is held.
func (z *RBAC) currentLocked() *snapshot {
	if gen := z.generation.Load(); z.snap == nil || gen != z.snapGen {
		z.snap = z.build()
		z.snapGen = gen
		clear(z.decisions)
	}
	return z.snap
}

// current is currentLocked for callers without the lock.
func (z *RBAC) current() *snapshot {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.currentLocked()
}

func decisionKey(a Attributes) string {
	// Fields end with a NUL and the groups are counted, so no two users'
	// attributes (a group name may hold a comma) share a key.
	var b strings.Builder
	for _, s := range []string{a.User.Name, strconv.Itoa(len(a.User.Groups)), strings.Join(a.User.Groups, "\x00"), a.Verb, a.APIGroup, a.Resource, a.Subresource, a.Namespace, a.Name, a.Path} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.String()
}

func (z *RBAC) build() *snapshot {
	s := &snapshot{clusterRoles: map[string][]*rbacv1.PolicyRule{}, roles: map[string][]*rbacv1.PolicyRule{}, bindings: map[string][]*rbacv1.RoleBinding{}}
	for _, o := range z.clusterRoles.List() {
		r := o.(*rbacv1.ClusterRole)
		s.clusterRoles[r.GetMetadata().GetName()] = r.GetRules()
	}
	for _, o := range z.roles.List() {
		r := o.(*rbacv1.Role)
		s.roles[cache.Key(r.GetMetadata().GetNamespace(), r.GetMetadata().GetName())] = r.GetRules()
	}
	for _, o := range z.clusterBindings.List() {
		s.clusterBindings = append(s.clusterBindings, o.(*rbacv1.ClusterRoleBinding))
	}
	for _, o := range z.bindings.List() {
		b := o.(*rbacv1.RoleBinding)
		ns := b.GetMetadata().GetNamespace()
		s.bindings[ns] = append(s.bindings[ns], b)
	}
	return s
}

func (s *snapshot) decide(a Attributes) Decision {
	for _, b := range s.clusterBindings {
		if b.GetRoleRef().GetKind() != "ClusterRole" || !anySubject(b.GetSubjects(), a.User, "") {
			continue
		}
		if rulesAllow(s.clusterRoles[b.GetRoleRef().GetName()], a) {
			return Allow
		}
	}
	if a.Namespace == "" || !a.ResourceRequest {
		return NoOpinion
	}
	for _, b := range s.bindings[a.Namespace] {
		if !anySubject(b.GetSubjects(), a.User, a.Namespace) {
			continue
		}
		var rules []*rbacv1.PolicyRule
		switch b.GetRoleRef().GetKind() {
		case "Role":
			rules = s.roles[cache.Key(a.Namespace, b.GetRoleRef().GetName())]
		case "ClusterRole":
			rules = s.clusterRoles[b.GetRoleRef().GetName()]
		}
		if rulesAllow(rules, a) {
			return Allow
		}
	}
	return NoOpinion
}

func anySubject(subjects []*rbacv1.Subject, u *authn.User, ns string) bool {
	for _, s := range subjects {
		if subjectMatches(s, u, ns) {
			return true
		}
	}
	return false
}

func rulesAllow(rules []*rbacv1.PolicyRule, a Attributes) bool {
	for _, r := range rules {
		if ruleAllows(r, a) {
			return true
		}
	}
	return false
}
