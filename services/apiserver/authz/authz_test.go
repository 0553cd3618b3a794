package authz

import (
	"context"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

func TestForbiddenMessage(t *testing.T) {
	alice := &authn.User{Name: "alice"}
	tests := []struct {
		a    Attributes
		want string
	}{
		{Attributes{User: alice, Verb: "list", ResourceRequest: true, Resource: "pods", Namespace: "kube-system"},
			`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"`},
		{Attributes{User: alice, Verb: "get", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "a", Name: "web"},
			`deployments/scale "web" is forbidden: User "alice" cannot get resource "deployments/scale" in API group "apps" in the namespace "a"`},
		{Attributes{User: alice, Verb: "list", ResourceRequest: true, Resource: "nodes"},
			`nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`},
		{Attributes{User: alice, Verb: "get", Path: "/metrics"}, `forbidden: User "alice" cannot get path "/metrics"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := ForbiddenMessage(tt.a, ""); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRuleAllows(t *testing.T) {
	res := func(verb, group, resource, sub, name string) Attributes {
		return Attributes{Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Name: name}
	}
	tests := []struct {
		name string
		rule *rbacv1.PolicyRule
		a    Attributes
		want bool
	}{
		{"exact", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, res("get", "", "pods", "", "x"), true},
		{"other verb", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, res("delete", "", "pods", "", "x"), false},
		{"other group", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"deployments"}}, res("get", "apps", "deployments", "", ""), false},
		{"wildcards", &rbacv1.PolicyRule{Verbs: []string{"*"}, ApiGroups: []string{"*"}, Resources: []string{"*"}}, res("patch", "apps", "deployments", "scale", ""), true},
		{"resource does not grant subresource", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods"}}, res("get", "", "pods", "log", "x"), false},
		{"subresource", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"pods/log"}}, res("get", "", "pods", "log", "x"), true},
		{"any resource's subresource", &rbacv1.PolicyRule{Verbs: []string{"update"}, ApiGroups: []string{"apps"}, Resources: []string{"*/scale"}}, res("update", "apps", "deployments", "scale", "x"), true},
		{"resource name", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, res("get", "", "configmaps", "", "a"), true},
		{"other name", &rbacv1.PolicyRule{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, res("get", "", "configmaps", "", "b"), false},
		{"names never match a list", &rbacv1.PolicyRule{Verbs: []string{"list"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}, res("list", "", "configmaps", "", ""), false},
		{"url", &rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceUrls: []string{"/healthz"}}, Attributes{Verb: "get", Path: "/healthz"}, true},
		{"url prefix", &rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceUrls: []string{"/apis/*"}}, Attributes{Verb: "get", Path: "/apis/apps/v1"}, true},
		{"url is not a resource", &rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceUrls: []string{"*"}}, res("get", "", "pods", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleAllows(tt.rule, tt.a); got != tt.want {
				t.Fatalf("ruleAllows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSnapshotDecide(t *testing.T) {
	ref := func(kind, name string) *rbacv1.RoleRef {
		return &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: kind, Name: name}
	}
	user := func(n string) []*rbacv1.Subject { return []*rbacv1.Subject{{Kind: "User", Name: n}} }
	roles := map[string][]*rbacv1.PolicyRule{}
	for _, r := range DefaultClusterRoles() {
		roles[r.GetMetadata().GetName()] = r.GetRules()
	}
	s := &snapshot{
		clusterRoles: roles,
		roles:        map[string][]*rbacv1.PolicyRule{"dev/cm-reader": {{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}}}},
		clusterBindings: append(DefaultClusterRoleBindings(), &rbacv1.ClusterRoleBinding{
			Metadata: &metav1.ObjectMeta{Name: "ops"}, RoleRef: ref("ClusterRole", "view"), Subjects: []*rbacv1.Subject{{Kind: "Group", Name: "ops"}}}),
		bindings: map[string][]*rbacv1.RoleBinding{
			"dev": {
				{Metadata: &metav1.ObjectMeta{Name: "v", Namespace: "dev"}, RoleRef: ref("ClusterRole", "view"), Subjects: user("viewer")},
				{Metadata: &metav1.ObjectMeta{Name: "c", Namespace: "dev"}, RoleRef: ref("Role", "cm-reader"), Subjects: []*rbacv1.Subject{{Kind: "ServiceAccount", Name: "bot"}}},
			},
		},
	}
	pods := func(u *authn.User, verb, ns string) Attributes {
		return Attributes{User: u, Verb: verb, ResourceRequest: true, Resource: "pods", Namespace: ns}
	}
	viewer := &authn.User{Name: "viewer", Groups: []string{"system:authenticated"}}
	bot := &authn.User{Name: "system:serviceaccount:dev:bot"}
	tests := []struct {
		name string
		a    Attributes
		want Decision
	}{
		{"viewer lists pods in dev", pods(viewer, "list", "dev"), Allow},
		{"viewer lists pods elsewhere", pods(viewer, "list", "kube-system"), NoOpinion},
		{"viewer lists pods cluster-wide", pods(viewer, "list", ""), NoOpinion},
		{"viewer creates a pod", pods(viewer, "create", "dev"), NoOpinion},
		{"viewer reads secrets", Attributes{User: viewer, Verb: "get", ResourceRequest: true, Resource: "secrets", Namespace: "dev", Name: "s"}, NoOpinion},
		{"viewer discovery", Attributes{User: viewer, Verb: "get", Path: "/apis/apps/v1"}, Allow},
		{"ops group views everywhere", pods(&authn.User{Name: "o", Groups: []string{"ops"}}, "watch", "kube-system"), Allow},
		{"service account by role", Attributes{User: bot, Verb: "get", ResourceRequest: true, Resource: "configmaps", Namespace: "dev", Name: "x"}, Allow},
		{"service account elsewhere", Attributes{User: bot, Verb: "get", ResourceRequest: true, Resource: "configmaps", Namespace: "prod", Name: "x"}, NoOpinion},
		{"scheduler binds", Attributes{User: &authn.User{Name: "system:kube-scheduler"}, Verb: "create", ResourceRequest: true, Resource: "pods", Subresource: "binding", Namespace: "a", Name: "p"}, Allow},
		{"scheduler cannot delete", pods(&authn.User{Name: "system:kube-scheduler"}, "delete", "a"), NoOpinion},
		{"bootstrapper asks for a certificate", Attributes{User: &authn.User{Name: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers"}}, Verb: "create", ResourceRequest: true, APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests"}, Allow},
		{"bootstrapper lists pods", pods(&authn.User{Name: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers"}}, "list", "default"), NoOpinion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.decide(tt.a); got != tt.want {
				t.Fatalf("decide = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("masters", func(t *testing.T) {
		d, _ := Chain{Masters{}}.Authorize(context.Background(), pods(&authn.User{Name: "root", Groups: []string{"system:masters"}}, "delete", "x"))
		if d != Allow {
			t.Fatal("system:masters denied")
		}
	})
}

func TestNodeAuthorizer(t *testing.T) {
	n := &Node{podNode: map[string]string{}, refs: map[string]map[string]int{}}
	pod := func(name, node, secret string) *corev1.Pod {
		return &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: &corev1.PodSpec{NodeName: node,
			Volumes: []*corev1.Volume{{Name: "s", Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}}
	}
	n.onPod(nil, pod("mine", "n1", "db-pass"))
	n.onPod(nil, pod("theirs", "n2", "other-pass"))
	n1 := &authn.User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	at := func(verb, group, resource, sub, ns, name string) Attributes {
		return Attributes{User: n1, Verb: verb, ResourceRequest: true, APIGroup: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
	}
	list := func(resource, ns, sel string) Attributes {
		a := at("watch", "", resource, "", ns, "")
		a.FieldSelector = sel
		return a
	}
	tests := []struct {
		name       string
		a          Attributes
		want       Decision
		wantReason string
	}{
		{"update own node status", at("update", "", "nodes", "status", "", "n1"), Allow, ""},
		{"create own node", at("create", "", "nodes", "", "", "n1"), Allow, ""},
		{"update another node", at("update", "", "nodes", "status", "", "n2"), Deny, `node "n1" can only modify its own Node, not "n2"`},
		{"delete own node", at("delete", "", "nodes", "", "", "n1"), Deny, "may not delete nodes"},
		{"read nodes", at("list", "", "nodes", "", "", ""), Allow, ""},
		{"own lease", at("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n1"), Allow, ""},
		{"another lease", at("update", "coordination.k8s.io", "leases", "", "kube-node-lease", "n2"), Deny, "only access its own Lease"},
		{"watch own pods", list("pods", "", "spec.nodeName=n1"), Allow, ""},
		{"watch all pods", list("pods", "", ""), Deny, "spec.nodeName=n1"},
		{"status of own pod", at("update", "", "pods", "status", "default", "mine"), Allow, ""},
		{"status of another node's pod", at("update", "", "pods", "status", "default", "theirs"), Deny, "no relationship found"},
		{"delete own pod", at("delete", "", "pods", "", "default", "mine"), Allow, ""},
		{"create a pod", at("create", "", "pods", "", "default", "x"), Deny, "may not create pods"},
		{"secret of own pod", at("get", "", "secrets", "", "default", "db-pass"), Allow, ""},
		{"watch secret of own pod by name", list("secrets", "default", "metadata.name=db-pass"), Allow, ""},
		{"secret of another pod", at("get", "", "secrets", "", "default", "other-pass"), Deny, "no relationship found"},
		{"list all secrets", list("secrets", "default", ""), Deny, "no relationship found"},
		{"services", at("list", "", "services", "", "", ""), Allow, ""},
		{"deployments", at("create", "apps", "deployments", "", "default", "d"), Deny, "may not create deployments"},
		{"events", at("create", "", "events", "", "default", "e"), Allow, ""},
		{"create a CSR", at("create", "certificates.k8s.io", "certificatesigningrequests", "", "", "renew"), Allow, ""},
		{"watch CSRs", at("watch", "certificates.k8s.io", "certificatesigningrequests", "", "", ""), Allow, ""},
		{"approve a CSR", at("update", "certificates.k8s.io", "certificatesigningrequests", "approval", "", "renew"), Deny, "may not update certificatesigningrequests/approval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason := n.Authorize(context.Background(), tt.a)
			if d != tt.want || !strings.Contains(reason, tt.wantReason) {
				t.Fatalf("Authorize = %v %q, want %v %q", d, reason, tt.want, tt.wantReason)
			}
		})
	}
	t.Run("pod moved away", func(t *testing.T) {
		n.onPod(pod("mine", "n1", "db-pass"), nil)
		if d, _ := n.Authorize(context.Background(), at("get", "", "secrets", "", "default", "db-pass")); d != Deny {
			t.Fatal("the secret of a deleted pod is still readable")
		}
	})
	t.Run("not a node", func(t *testing.T) {
		if d, _ := n.Authorize(context.Background(), Attributes{User: &authn.User{Name: "system:node:n1"}, Verb: "get", ResourceRequest: true, Resource: "secrets"}); d != NoOpinion {
			t.Fatal("a node name outside system:nodes is judged as a node")
		}
	})
}

func TestDefaultPolicyIsValid(t *testing.T) {
	names := map[string]bool{}
	for _, r := range DefaultClusterRoles() {
		names[r.GetMetadata().GetName()] = true
	}
	for _, want := range []string{"cluster-admin", "admin", "edit", "view", "system:kube-scheduler", "system:kube-controller-manager", "system:node-proxier", "system:kube-dns", "system:node-bootstrapper", "system:basic-user"} {
		if !names[want] {
			t.Errorf("no default cluster role %s", want)
		}
	}
	for _, b := range DefaultClusterRoleBindings() {
		if !names[b.GetRoleRef().GetName()] {
			t.Errorf("binding %s refers to a missing role", b.GetMetadata().GetName())
		}
	}
}

func TestCreateIgnoresResourceNames(t *testing.T) {
	r := &rbacv1.PolicyRule{Verbs: []string{"create"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"a"}}
	a := Attributes{Verb: "create", ResourceRequest: true, Resource: "configmaps", Namespace: "x", Name: "a", User: &authn.User{Name: "u"}}
	if ruleAllows(r, a) {
		t.Fatal("resourceNames granted a create, which Kubernetes never does")
	}
	if got := ForbiddenMessage(a, ""); !strings.HasPrefix(got, "configmaps is forbidden") {
		t.Fatalf("create message names the object: %s", got)
	}
}
