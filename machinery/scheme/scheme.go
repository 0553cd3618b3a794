// Package scheme is the table of API kinds: for each, its group, version,
// resource name, short names, scope and Go message type. The apiserver, the
// client and the manifest decoder all read it, so adding a kind starts here.
package scheme

import (
	"strings"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Kind describes one API kind.
type Kind struct {
	// Group is "" for the core group, else e.g. "apps".
	Group   string
	Version string
	// Kind is the object's kind, e.g. "Pod".
	Kind string
	// Resource is the plural lower-case resource, e.g. "pods".
	Resource   string
	Singular   string
	ShortNames []string
	Namespaced bool
	// HasStatus says the kind has a status subresource.
	HasStatus bool
	New       func() proto.Message
	NewList   func() proto.Message
}

// APIVersion is "v1" for the core group, else "group/version".
func (k Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// ListKind is the kind of the list, e.g. "PodList".
func (k Kind) ListKind() string { return k.Kind + "List" }

// PathPrefix is the REST prefix of the group version: /api/v1 or /apis/<group>/<version>.
func (k Kind) PathPrefix() string {
	if k.Group == "" {
		return "/api/" + k.Version
	}
	return "/apis/" + k.Group + "/" + k.Version
}

// MessageName is the full proto name of the kind's message.
func (k Kind) MessageName() protoreflect.FullName {
	return k.New().ProtoReflect().Descriptor().FullName()
}

var kinds = []Kind{
	{Version: "v1", Kind: "Namespace", Resource: "namespaces", ShortNames: []string{"ns"}, HasStatus: true,
		New: func() proto.Message { return &corev1.Namespace{} }, NewList: func() proto.Message { return &corev1.NamespaceList{} }},
	{Version: "v1", Kind: "Node", Resource: "nodes", ShortNames: []string{"no"}, HasStatus: true,
		New: func() proto.Message { return &corev1.Node{} }, NewList: func() proto.Message { return &corev1.NodeList{} }},
	{Version: "v1", Kind: "Pod", Resource: "pods", ShortNames: []string{"po"}, Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &corev1.Pod{} }, NewList: func() proto.Message { return &corev1.PodList{} }},
	{Version: "v1", Kind: "Service", Resource: "services", ShortNames: []string{"svc"}, Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &corev1.Service{} }, NewList: func() proto.Message { return &corev1.ServiceList{} }},
	{Version: "v1", Kind: "Endpoints", Resource: "endpoints", Singular: "endpoints", ShortNames: []string{"ep"}, Namespaced: true,
		New: func() proto.Message { return &corev1.Endpoints{} }, NewList: func() proto.Message { return &corev1.EndpointsList{} }},
	{Version: "v1", Kind: "Secret", Resource: "secrets", Namespaced: true,
		New: func() proto.Message { return &corev1.Secret{} }, NewList: func() proto.Message { return &corev1.SecretList{} }},
	{Version: "v1", Kind: "ConfigMap", Resource: "configmaps", ShortNames: []string{"cm"}, Namespaced: true,
		New: func() proto.Message { return &corev1.ConfigMap{} }, NewList: func() proto.Message { return &corev1.ConfigMapList{} }},
	{Version: "v1", Kind: "ServiceAccount", Resource: "serviceaccounts", ShortNames: []string{"sa"}, Namespaced: true,
		New: func() proto.Message { return &corev1.ServiceAccount{} }, NewList: func() proto.Message { return &corev1.ServiceAccountList{} }},
	{Version: "v1", Kind: "Event", Resource: "events", ShortNames: []string{"ev"}, Namespaced: true,
		New: func() proto.Message { return &corev1.Event{} }, NewList: func() proto.Message { return &corev1.EventList{} }},
	{Group: "coordination.k8s.io", Version: "v1", Kind: "Lease", Resource: "leases", Namespaced: true,
		New: func() proto.Message { return &coordinationv1.Lease{} }, NewList: func() proto.Message { return &coordinationv1.LeaseList{} }},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", ShortNames: []string{"rs"}, Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &appsv1.ReplicaSet{} }, NewList: func() proto.Message { return &appsv1.ReplicaSetList{} }},
	{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", ShortNames: []string{"deploy"}, Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &appsv1.Deployment{} }, NewList: func() proto.Message { return &appsv1.DeploymentList{} }},
	{Group: "batch", Version: "v1", Kind: "Job", Resource: "jobs", Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &batchv1.Job{} }, NewList: func() proto.Message { return &batchv1.JobList{} }},
	{Group: "batch", Version: "v1", Kind: "CronJob", Resource: "cronjobs", ShortNames: []string{"cj"}, Namespaced: true, HasStatus: true,
		New: func() proto.Message { return &batchv1.CronJob{} }, NewList: func() proto.Message { return &batchv1.CronJobList{} }},
	{Group: CertificatesGroup, Version: "v1", Kind: "CertificateSigningRequest", Resource: "certificatesigningrequests", ShortNames: []string{"csr"}, HasStatus: true,
		New: func() proto.Message { return &certificatesv1.CertificateSigningRequest{} }, NewList: func() proto.Message { return &certificatesv1.CertificateSigningRequestList{} }},
	{Group: RBACGroup, Version: "v1", Kind: "Role", Resource: "roles", Namespaced: true,
		New: func() proto.Message { return &rbacv1.Role{} }, NewList: func() proto.Message { return &rbacv1.RoleList{} }},
	{Group: RBACGroup, Version: "v1", Kind: "ClusterRole", Resource: "clusterroles",
		New: func() proto.Message { return &rbacv1.ClusterRole{} }, NewList: func() proto.Message { return &rbacv1.ClusterRoleList{} }},
	{Group: RBACGroup, Version: "v1", Kind: "RoleBinding", Resource: "rolebindings", Namespaced: true,
		New: func() proto.Message { return &rbacv1.RoleBinding{} }, NewList: func() proto.Message { return &rbacv1.RoleBindingList{} }},
	{Group: RBACGroup, Version: "v1", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings",
		New: func() proto.Message { return &rbacv1.ClusterRoleBinding{} }, NewList: func() proto.Message { return &rbacv1.ClusterRoleBindingList{} }},
}

// CertificatesGroup is the API group of certificate signing requests.
const CertificatesGroup = "certificates.k8s.io"

// RBACGroup is the API group of roles and bindings.
const RBACGroup = "rbac.authorization.k8s.io"

func init() {
	for i := range kinds {
		if kinds[i].Singular == "" {
			kinds[i].Singular = strings.ToLower(kinds[i].Kind)
		}
	}
}

// All returns every kind, in a stable order.
func All() []Kind {
	out := make([]Kind, len(kinds))
	copy(out, kinds)
	return out
}

// ByKind finds a kind by apiVersion ("v1", "apps/v1") and kind ("Pod").
func ByKind(apiVersion, kind string) (Kind, bool) {
	for _, k := range kinds {
		if k.APIVersion() == apiVersion && k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// ByResource finds a kind by group and plural resource name.
func ByResource(group, resource string) (Kind, bool) {
	for _, k := range kinds {
		if k.Group == group && k.Resource == resource {
			return k, true
		}
	}
	return Kind{}, false
}

// Lookup finds a kind by any name a user may type: resource, singular, kind
// or short name, case-insensitively, optionally qualified by group
// ("deployments.apps").
func Lookup(name string) (Kind, bool) {
	name = strings.ToLower(name)
	group := ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name, group = name[:i], name[i+1:]
	}
	for _, k := range kinds {
		if group != "" && k.Group != group {
			continue
		}
		if name == k.Resource || name == k.Singular || name == strings.ToLower(k.Kind) {
			return k, true
		}
		for _, s := range k.ShortNames {
			if name == s {
				return k, true
			}
		}
	}
	return Kind{}, false
}

// ForMessage finds the kind of an object or list message.
func ForMessage(m proto.Message) (Kind, bool) {
	name := m.ProtoReflect().Descriptor().FullName()
	for _, k := range kinds {
		if k.MessageName() == name || k.NewList().ProtoReflect().Descriptor().FullName() == name {
			return k, true
		}
	}
	return Kind{}, false
}
