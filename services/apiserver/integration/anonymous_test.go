package integration

import (
	"net/http"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
)

// TestSecureAnonymous: with --anonymous-auth a request without
// credentials is system:anonymous, whom RBAC lets get the kube-public
// cluster-info ConfigMap and the public paths only; a refused credential
// is still a 401, never anonymous.
func TestSecureAnonymous(t *testing.T) {
	t.Parallel()
	s := start(t, options{anonymous: true})
	anon := creds{}
	t.Run("cluster-info is readable", func(t *testing.T) {
		// Missing (tug init publishes it), so 404: authorised.
		wantStatus(t, s.doAs(t, anon, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", nil), http.StatusNotFound, `configmaps "cluster-info" not found`)
	})
	t.Run("public paths", func(t *testing.T) {
		if r := s.doAs(t, anon, "GET", "/version", nil); r.code != http.StatusOK {
			t.Fatalf("/version = %d %s", r.code, r.body)
		}
	})
	t.Run("everything else is 403", func(t *testing.T) {
		wantStatus(t, s.doAs(t, anon, "GET", "/api/v1/namespaces/kube-public/configmaps/other", nil), http.StatusForbidden,
			`User "system:anonymous" cannot get resource "configmaps" in API group "" in the namespace "kube-public"`)
		wantStatus(t, s.doAs(t, anon, "GET", "/api/v1/namespaces/kube-public/configmaps", nil), http.StatusForbidden, `User "system:anonymous" cannot list`)
		wantStatus(t, s.doAs(t, anon, "GET", "/api/v1/pods", nil), http.StatusForbidden, `User "system:anonymous" cannot list resource "pods"`)
		_, err := s.as(t, anon).Secrets().List(ctx(t), &metav1.ListOptions{Namespace: "kube-system"})
		wantGRPC(t, err, codes.PermissionDenied, `User "system:anonymous" cannot list resource "secrets"`)
	})
	t.Run("a bad token is 401", func(t *testing.T) {
		wantStatus(t, s.doAs(t, creds{token: "abcdef.0000000000000000"}, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", nil),
			http.StatusUnauthorized, "bootstrap token abcdef is unknown")
	})
}
