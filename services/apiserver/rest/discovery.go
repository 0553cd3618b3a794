package rest

import (
	"cmp"
	"slices"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

// The discovery documents, in Kubernetes' JSON shapes (kubectl parses them).

// APIVersions is the document at /api.
type APIVersions struct {
	Kind                       string                      `json:"kind"`
	Versions                   []string                    `json:"versions"`
	ServerAddressByClientCIDRs []ServerAddressByClientCIDR `json:"serverAddressByClientCIDRs"`
}

// ServerAddressByClientCIDR tells clients in a CIDR which address to use.
type ServerAddressByClientCIDR struct {
	ClientCIDR    string `json:"clientCIDR"`
	ServerAddress string `json:"serverAddress"`
}

// APIGroupList is the document at /apis.
type APIGroupList struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Groups     []APIGroup `json:"groups"`
}

// APIGroup is the document at /apis/<group>.
type APIGroup struct {
	Kind             string                     `json:"kind,omitempty"`
	APIVersion       string                     `json:"apiVersion,omitempty"`
	Name             string                     `json:"name"`
	Versions         []GroupVersionForDiscovery `json:"versions"`
	PreferredVersion GroupVersionForDiscovery   `json:"preferredVersion"`
}

// GroupVersionForDiscovery names one version of a group.
type GroupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

// APIResourceList is the document at /api/v1 and /apis/<group>/<version>.
type APIResourceList struct {
	Kind         string        `json:"kind"`
	APIVersion   string        `json:"apiVersion"`
	GroupVersion string        `json:"groupVersion"`
	Resources    []APIResource `json:"resources"`
}

// APIResource describes one resource or subresource.
type APIResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

var (
	resourceVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	statusVerbs   = []string{"update"}
)

// extraSubresources are the subresources beyond status, by resource.
var extraSubresources = map[string][]APIResource{
	"pods": {
		{Name: "pods/binding", Kind: "Binding", Verbs: []string{"create"}},
		{Name: "pods/exec", Kind: "PodExecOptions", Verbs: []string{"create", "get"}},
		{Name: "pods/log", Kind: "Pod", Verbs: []string{"get"}},
	},
	"certificatesigningrequests": {{Name: "certificatesigningrequests/approval", Kind: "CertificateSigningRequest", Verbs: []string{"update"}}},
	"deployments":                {{Name: "deployments/scale", Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}}},
	"serviceaccounts":            {{Name: "serviceaccounts/token", Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest", Verbs: []string{"create"}}},
	"replicasets":                {{Name: "replicasets/scale", Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: []string{"get", "patch", "update"}}},
}

// categories puts the workload kinds in "all", so `kubectl get all` finds them.
var categories = map[string][]string{
	"pods": {"all"}, "services": {"all"}, "replicasets": {"all"},
	"deployments": {"all"}, "jobs": {"all"}, "cronjobs": {"all"},
}

// discovery holds the documents, built once from machinery/scheme.
type discovery struct {
	docs map[string]any
}

func newDiscovery(serverAddress string) *discovery {
	d := &discovery{docs: map[string]any{}}
	lists := map[string]*APIResourceList{}
	var order []string
	for _, k := range scheme.All() {
		gv := k.APIVersion()
		l, ok := lists[gv]
		if !ok {
			l = &APIResourceList{Kind: "APIResourceList", APIVersion: "v1", GroupVersion: gv, Resources: []APIResource{}}
			lists[gv] = l
			order = append(order, gv)
		}
		l.Resources = append(l.Resources, APIResource{
			Name: k.Resource, SingularName: k.Singular, Namespaced: k.Namespaced, Kind: k.Kind,
			Verbs: resourceVerbs, ShortNames: k.ShortNames, Categories: categories[k.Resource],
		})
		if k.HasStatus {
			l.Resources = append(l.Resources, APIResource{
				Name: k.Resource + "/status", Namespaced: k.Namespaced, Kind: k.Kind, Verbs: statusVerbs,
			})
		}
		for _, sub := range extraSubresources[k.Resource] {
			sub.Namespaced = k.Namespaced
			l.Resources = append(l.Resources, sub)
		}
		d.docs[k.PathPrefix()] = l
	}
	groups := map[string]*APIGroup{}
	groupList := &APIGroupList{Kind: "APIGroupList", APIVersion: "v1", Groups: []APIGroup{}}
	for _, gv := range order {
		k := groupKind(gv)
		if k.Group == "" {
			continue
		}
		g, ok := groups[k.Group]
		if !ok {
			g = &APIGroup{Kind: "APIGroup", APIVersion: "v1", Name: k.Group}
			groups[k.Group] = g
		}
		v := GroupVersionForDiscovery{GroupVersion: gv, Version: k.Version}
		g.Versions = append(g.Versions, v)
		if g.PreferredVersion.Version == "" {
			g.PreferredVersion = v
		}
	}
	for _, g := range groups {
		d.docs["/apis/"+g.Name] = g
		entry := *g
		entry.Kind, entry.APIVersion = "", ""
		groupList.Groups = append(groupList.Groups, entry)
	}
	slices.SortFunc(groupList.Groups, func(a, b APIGroup) int { return cmp.Compare(a.Name, b.Name) })
	d.docs["/apis"] = groupList
	d.docs["/api"] = &APIVersions{
		Kind:     "APIVersions",
		Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: serverAddress},
		},
	}
	d.docs["/version"] = newVersionInfo()
	addOpenAPI(d.docs)
	return d
}

// groupKind returns the first kind of a group version, for its group and version.
func groupKind(gv string) scheme.Kind {
	for _, k := range scheme.All() {
		if k.APIVersion() == gv {
			return k
		}
	}
	return scheme.Kind{}
}

// lookup returns the document served at path, if any.
func (d *discovery) lookup(path string) (any, bool) {
	doc, ok := d.docs[path]
	return doc, ok
}
