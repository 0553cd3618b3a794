// Package noderestriction is the apiserver's NodeRestriction admission, as
// Kubernetes' plugin of that name: the node authoriser lets a kubelet (user
// system:node:<name> in system:nodes) write its own Node, and this limits
// what it may change there. A node may not change its taints, pod CIDRs or
// unschedulable flag once the Node exists (they steer workloads to it, and
// are the controllers' and the administrator's to set), nor set, change or
// remove labels under node-restriction.kubernetes.io/ or
// node-role.kubernetes.io/ (which administrators use to pick trusted
// nodes). On create it may set its taints and pod CIDR, not those labels.
package noderestriction

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
)

// Node identities, as Kubernetes names them.
const (
	nodesGroup     = "system:nodes"
	nodeUserPrefix = "system:node:"
)

// RestrictedLabelDomains are the label domains (and their subdomains) a
// node may not set on itself.
var RestrictedLabelDomains = []string{"node-restriction.kubernetes.io", "node-role.kubernetes.io"}

// Admit checks a write of a Node by the request's user: cur is nil on
// create. Users other than nodes are not restricted here.
func Admit(ctx context.Context, cur, next proto.Message) error {
	u, ok := authn.FromContext(ctx)
	if !ok || !u.InGroup(nodesGroup) || !strings.HasPrefix(u.Name, nodeUserPrefix) {
		return nil
	}
	n, ok := next.(*corev1.Node)
	if !ok {
		return nil
	}
	node := strings.TrimPrefix(u.Name, nodeUserPrefix)
	var old *corev1.Node
	if cur != nil {
		old, _ = cur.(*corev1.Node)
	}
	if field := restrictedChange(old, n); field != "" {
		return apierr.Forbidden("nodes", n.GetMetadata().GetName(), fmt.Sprintf("node %q may not change %s (NodeRestriction)", node, field))
	}
	return nil
}

// restrictedChange names the first restricted field next changes from old
// (nil on create), "" when there is none.
func restrictedChange(old, next *corev1.Node) string {
	var oldLabels map[string]string
	if old != nil {
		oldLabels = old.GetMetadata().GetLabels()
	}
	newLabels := next.GetMetadata().GetLabels()
	keys := slices.Sorted(maps.Keys(newLabels))
	keys = append(keys, slices.Sorted(maps.Keys(oldLabels))...)
	for _, k := range keys {
		if !restrictedLabel(k) {
			continue
		}
		ov, inOld := oldLabels[k]
		nv, inNew := newLabels[k]
		if inOld != inNew || ov != nv {
			return fmt.Sprintf("metadata.labels[%s]: labels under %s are the administrator's", k, strings.Join(RestrictedLabelDomains, "/ or ")+"/")
		}
	}
	if old == nil {
		return ""
	}
	os, ns := old.GetSpec(), next.GetSpec() // old and new spec
	switch {
	case !taintsEqual(os.GetTaints(), ns.GetTaints()):
		return "spec.taints"
	case os.GetPodCidr() != "" && os.GetPodCidr() != ns.GetPodCidr():
		return "spec.podCIDR"
	case len(os.GetPodCidrs()) > 0 && !slices.Equal(os.GetPodCidrs(), ns.GetPodCidrs()):
		return "spec.podCIDRs"
	case os.GetUnschedulable() != ns.GetUnschedulable():
		return "spec.unschedulable"
	}
	return ""
}

func taintsEqual(a, b []*corev1.Taint) bool {
	return slices.EqualFunc(a, b, func(x, y *corev1.Taint) bool { return proto.Equal(x, y) })
}

// restrictedLabel reports whether key's domain is a restricted one or a
// subdomain of one.
func restrictedLabel(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	domain = strings.ToLower(domain)
	for _, d := range RestrictedLabelDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}
