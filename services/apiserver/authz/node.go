package authz

import (
	"context"
	"fmt"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"strings"
	"sync"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/cache"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// Node identities, as Kubernetes names them.
const (
	NodesGroup      = "system:nodes"
	NodeUserPrefix  = "system:node:"
	nodeLeaseNS     = "kube-node-lease"
	coordinationAPI = "coordination.k8s.io"
)

// Node is the node authoriser: a kubelet (user system:node:<name> in
// system:nodes) may read nodes, services, endpoints and namespaces, the
// pods bound to it (lists and watches only with spec.nodeName=<name>), and
// the secrets and config maps those pods use (by name); it may write only
// its own Node and Lease, its pods' status, delete its pods, and create
// events. Anything else is denied with a reason. Pods are indexed from an
// in-memory mirror, never read per request.
type Node struct {
	pods *cache.Cache

	mu sync.RWMutex
	// podNode maps namespace/name to the node the pod is bound to.
	podNode map[string]string
	// refs counts, per node, the pods that use "secrets/<ns>/<name>" or "configmaps/<ns>/<name>".
	refs map[string]map[string]int
}

// NewNode mirrors the pods of reg; Run keeps the mirror current.
func NewNode(reg *registry.Registry, log *zap.Logger) *Node {
	n := &Node{podNode: map[string]string{}, refs: map[string]map[string]int{}}
	n.pods = cache.New(reg.Resource("pods"), nil, n.onPod, log)
	return n
}

// Run runs the pod mirror until ctx ends.
func (n *Node) Run(ctx context.Context) { n.pods.Run(ctx) }

// WaitSynced waits for the first list of pods.
func (n *Node) WaitSynced(ctx context.Context) bool { return n.pods.WaitSynced(ctx) }

func (n *Node) onPod(old, obj proto.Message) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old != nil {
		p := old.(*corev1.Pod)
		n.index(p, -1)
		delete(n.podNode, cache.Key(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName()))
	}
	if obj != nil {
		p := obj.(*corev1.Pod)
		if node := p.GetSpec().GetNodeName(); node != "" {
			n.podNode[cache.Key(p.GetMetadata().GetNamespace(), p.GetMetadata().GetName())] = node
			n.index(p, 1)
		}
	}
}

// index adds (delta 1) or removes (-1) a bound pod's references.
func (n *Node) index(p *corev1.Pod, delta int) {
	node := p.GetSpec().GetNodeName()
	if node == "" {
		return
	}
	m := n.refs[node]
	if m == nil {
		m = map[string]int{}
		n.refs[node] = m
	}
	for _, r := range podRefs(p) {
		m[r] += delta
		if m[r] <= 0 {
			delete(m, r)
		}
	}
	if len(m) == 0 {
		delete(n.refs, node)
	}
}

// podRefs lists the secrets and config maps a pod uses, once each.
func podRefs(p *corev1.Pod) []string {
	ns := p.GetMetadata().GetNamespace()
	seen := map[string]bool{}
	var out []string
	add := func(kind, name string) {
		if name == "" {
			return
		}
		k := kind + "/" + ns + "/" + name
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	s := p.GetSpec()
	for _, v := range s.GetVolumes() {
		add("secrets", v.GetSecret().GetSecretName())
		add("configmaps", v.GetConfigMap().GetName())
	}
	for _, c := range append(append([]*corev1.Container(nil), s.GetInitContainers()...), s.GetContainers()...) {
		for _, e := range c.GetEnv() {
			add("secrets", e.GetValueFrom().GetSecretKeyRef().GetName())
			add("configmaps", e.GetValueFrom().GetConfigMapKeyRef().GetName())
		}
		for _, e := range c.GetEnvFrom() {
			add("secrets", e.GetSecretRef().GetName())
			add("configmaps", e.GetConfigMapRef().GetName())
		}
	}
	return out
}

// Authorize decides the requests of nodes; others get no opinion.
func (n *Node) Authorize(_ context.Context, a Attributes) (Decision, string) {
	node, ok := nodeName(a.User)
	if !ok || !a.ResourceRequest {
		return NoOpinion, ""
	}
	read := a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
	switch {
	case a.APIGroup == "" && (a.Resource == "services" || a.Resource == "endpoints" || a.Resource == "namespaces") && a.Subresource == "":
		if read {
			return Allow, ""
		}
	case a.APIGroup == "" && a.Resource == "nodes":
		return n.nodes(node, a, read)
	case a.APIGroup == coordinationAPI && a.Resource == "leases":
		if a.Namespace == nodeLeaseNS && a.Name == node && a.Verb != "list" && a.Verb != "watch" && a.Verb != "deletecollection" {
			return Allow, ""
		}
		return Deny, fmt.Sprintf("node %q can only access its own Lease %s/%s", node, nodeLeaseNS, node)
	case a.APIGroup == "" && a.Resource == "pods":
		return n.podsDecision(node, a)
	case a.APIGroup == "" && (a.Resource == "secrets" || a.Resource == "configmaps"):
		return n.references(node, a)
	case a.APIGroup == "" && a.Resource == "events":
		if a.Verb == "create" || a.Verb == "update" || a.Verb == "patch" {
			return Allow, ""
		}
	case a.APIGroup == scheme.CertificatesGroup && a.Resource == "certificatesigningrequests" && a.Subresource == "":
		// Renewing its client certificate: the approver checks that the
		// request is for the node itself.
		if read || a.Verb == "create" {
			return Allow, ""
		}
	}
	return Deny, fmt.Sprintf("node %q may not %s %s", node, a.Verb, a.resourceString())
}

func (n *Node) nodes(node string, a Attributes, read bool) (Decision, string) {
	if a.Subresource == "" && read {
		return Allow, ""
	}
	if a.Name == node && (a.Verb == "create" || a.Verb == "update" || a.Verb == "patch") && (a.Subresource == "" || a.Subresource == "status") {
		return Allow, ""
	}
	if a.Name != node && a.Name != "" {
		return Deny, fmt.Sprintf("node %q can only modify its own Node, not %q", node, a.Name)
	}
	return Deny, fmt.Sprintf("node %q may not %s %s", node, a.Verb, a.resourceString())
}

func (n *Node) podsDecision(node string, a Attributes) (Decision, string) {
	switch {
	case a.Subresource == "" && (a.Verb == "list" || a.Verb == "watch"):
		if selects(a.FieldSelector, "spec.nodeName", node) {
			return Allow, ""
		}
		return Deny, fmt.Sprintf("node %q can only list and watch pods with fieldSelector spec.nodeName=%s", node, node)
	case a.Subresource == "" && (a.Verb == "get" || a.Verb == "delete"),
		a.Subresource == "status" && (a.Verb == "get" || a.Verb == "update" || a.Verb == "patch"):
		n.mu.RLock()
		bound := n.podNode[cache.Key(a.Namespace, a.Name)]
		n.mu.RUnlock()
		if bound == node {
			return Allow, ""
		}
		return Deny, fmt.Sprintf("node %q can only access pods bound to it: no relationship found between node %q and pod %s/%s", node, node, a.Namespace, a.Name)
	}
	return Deny, fmt.Sprintf("node %q may not %s %s", node, a.Verb, a.resourceString())
}

func (n *Node) references(node string, a Attributes) (Decision, string) {
	name := a.Name
	if a.Verb == "list" || a.Verb == "watch" {
		name, _ = selected(a.FieldSelector, "metadata.name")
	} else if a.Verb != "get" {
		return Deny, fmt.Sprintf("node %q may not %s %s", node, a.Verb, a.Resource)
	}
	n.mu.RLock()
	used := name != "" && a.Namespace != "" && n.refs[node][a.Resource+"/"+a.Namespace+"/"+name] > 0
	n.mu.RUnlock()
	if used {
		return Allow, ""
	}
	return Deny, fmt.Sprintf("no relationship found between node %q and this object: a node reads only the %s its pods use, by name", node, a.Resource)
}

// nodeName returns the node of a kubelet's user.
func nodeName(u *authn.User) (string, bool) {
	if u == nil || !u.InGroup(NodesGroup) {
		return "", false
	}
	name, ok := strings.CutPrefix(u.Name, NodeUserPrefix)
	return name, ok && name != ""
}

// selected returns the value a field selector requires of field ("f=v" or "f==v").
func selected(sel, field string) (string, bool) {
	for _, term := range strings.Split(sel, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(term), "=")
		if !ok || strings.HasSuffix(k, "!") {
			continue
		}
		if strings.TrimSpace(k) == field {
			return strings.TrimSpace(strings.TrimPrefix(v, "=")), true
		}
	}
	return "", false
}

func selects(sel, field, want string) bool {
	v, ok := selected(sel, field)
	return ok && v == want
}
