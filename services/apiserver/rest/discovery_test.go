package rest

import (
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"testing"
)

func decodeInto(t *testing.T, r response, v any) {
	t.Helper()
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("answered %d %q: %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.body)
	}
}

func findResource(l APIResourceList, name string) (APIResource, bool) {
	for _, r := range l.Resources {
		if r.Name == name {
			return r, true
		}
	}
	return APIResource{}, false
}

func TestDiscoveryCore(t *testing.T) {
	h := newHarness(t)
	var versions APIVersions
	decodeInto(t, h.do(t, "GET", "/api", ""), &versions)
	if versions.Kind != "APIVersions" || !slices.Equal(versions.Versions, []string{"v1"}) ||
		len(versions.ServerAddressByClientCIDRs) != 1 ||
		versions.ServerAddressByClientCIDRs[0] != (ServerAddressByClientCIDR{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1:6443"}) {
		t.Errorf("/api = %+v", versions)
	}

	var core APIResourceList
	decodeInto(t, h.do(t, "GET", "/api/v1", ""), &core)
	if core.Kind != "APIResourceList" || core.GroupVersion != "v1" {
		t.Errorf("/api/v1 = %s %s", core.Kind, core.GroupVersion)
	}
	tests := []struct {
		name       string
		kind       string
		namespaced bool
		verbs      []string
		shortNames []string
	}{
		{"pods", "Pod", true, resourceVerbs, []string{"po"}},
		{"pods/status", "Pod", true, []string{"update"}, nil},
		{"pods/binding", "Binding", true, []string{"create"}, nil},
		{"pods/exec", "PodExecOptions", true, []string{"create", "get"}, nil},
		{"pods/log", "Pod", true, []string{"get"}, nil},
		{"nodes", "Node", false, resourceVerbs, []string{"no"}},
		{"nodes/status", "Node", false, []string{"update"}, nil},
		{"namespaces", "Namespace", false, resourceVerbs, []string{"ns"}},
		{"configmaps", "ConfigMap", true, resourceVerbs, []string{"cm"}},
		{"serviceaccounts", "ServiceAccount", true, resourceVerbs, []string{"sa"}},
		{"serviceaccounts/token", "TokenRequest", true, []string{"create"}, nil},
	}
	for _, tc := range tests {
		r, ok := findResource(core, tc.name)
		if !ok {
			t.Errorf("/api/v1 has no %s", tc.name)
			continue
		}
		if r.Kind != tc.kind || r.Namespaced != tc.namespaced || !slices.Equal(r.Verbs, tc.verbs) || !slices.Equal(r.ShortNames, tc.shortNames) {
			t.Errorf("%s = %+v", tc.name, r)
		}
	}
	if pods, _ := findResource(core, "pods"); pods.SingularName != "pod" || !slices.Contains(pods.Categories, "all") {
		t.Errorf("pods = %+v, want singular pod in category all", pods)
	}
	if _, ok := findResource(core, "configmaps/status"); ok {
		t.Error("configmaps/status listed though ConfigMap has no status")
	}
}

func TestDiscoveryGroups(t *testing.T) {
	h := newHarness(t)
	var list APIGroupList
	decodeInto(t, h.do(t, "GET", "/apis", ""), &list)
	var names []string
	for _, g := range list.Groups {
		names = append(names, g.Name)
		if len(g.Versions) != 1 || g.PreferredVersion != g.Versions[0] || g.PreferredVersion.GroupVersion != g.Name+"/v1" {
			t.Errorf("group %+v", g)
		}
	}
	if list.Kind != "APIGroupList" || !slices.Equal(names, []string{"apps", "batch", "certificates.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io"}) {
		t.Errorf("/apis = %s %v", list.Kind, names)
	}

	var apps APIGroup
	decodeInto(t, h.do(t, "GET", "/apis/apps", ""), &apps)
	if apps.Kind != "APIGroup" || apps.Name != "apps" || apps.PreferredVersion.Version != "v1" {
		t.Errorf("/apis/apps = %+v", apps)
	}

	tests := []struct{ path, groupVersion, resource, kind string }{
		{"/apis/apps/v1", "apps/v1", "deployments", "Deployment"},
		{"/apis/batch/v1", "batch/v1", "cronjobs", "CronJob"},
		{"/apis/coordination.k8s.io/v1", "coordination.k8s.io/v1", "leases", "Lease"},
	}
	for _, tc := range tests {
		var l APIResourceList
		decodeInto(t, h.do(t, "GET", tc.path, ""), &l)
		r, ok := findResource(l, tc.resource)
		if l.GroupVersion != tc.groupVersion || !ok || r.Kind != tc.kind || !r.Namespaced {
			t.Errorf("%s = %+v", tc.path, l)
		}
	}
	if r := h.do(t, "POST", "/apis", "{}"); r.code != http.StatusMethodNotAllowed {
		t.Errorf("POST /apis = %d, want 405", r.code)
	}
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	var v VersionInfo
	decodeInto(t, h.do(t, "GET", "/version", ""), &v)
	if v.Major != "1" || v.Minor != "34" || v.GitVersion != "v1.34.0-tugboat" || v.Platform != runtime.GOOS+"/"+runtime.GOARCH || v.GoVersion == "" {
		t.Errorf("/version = %+v", v)
	}
}
