package authn

import (
	"net/http"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
)

// publicPaths are the non-resource paths anonymous may GET (Kubernetes'
// anonymous authentication restricted to endpoints): health and version.
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version"}

// clusterInfoPath is the REST path of the cluster-info ConfigMap, which a
// joining node reads before it has credentials.
const clusterInfoPath = "/api/v1/namespaces/" + clusterinfo.Namespace + "/configmaps/" + clusterinfo.Name

// PublicHTTP reports whether an HTTP request is one anonymous may make:
// GET (or HEAD) of a health check, /version or the cluster-info ConfigMap
// (not a watch of it).
func PublicHTTP(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	path := r.URL.Path
	if path == clusterInfoPath {
		w := r.URL.Query().Get("watch")
		return !r.URL.Query().Has("watch") || w == "false" || w == "0"
	}
	for _, p := range publicPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// PublicGRPC reports whether a gRPC call is one anonymous may make: the
// Get of the cluster-info ConfigMap.
func PublicGRPC(fullMethod string, req any) bool {
	if fullMethod != corev1.ConfigMapService_Get_FullMethodName {
		return false
	}
	o, ok := req.(*metav1.GetOptions)
	return ok && o.GetNamespace() == clusterinfo.Namespace && o.GetName() == clusterinfo.Name
}
