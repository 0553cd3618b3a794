package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc/codes"
)

// TestServiceAccountTokens: a ServiceAccount made with kubectl, bound to
// view in its namespace, gets a token through serviceaccounts/token; the
// token lists pods there over REST and kubectl, is 403 elsewhere and 401
// for another audience or once the account is gone.
func TestServiceAccountTokens(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "team-sa")
	s.createNamespace(t, "other-sa")
	admin := newKubectlConfig(t, s.kubeconfig(s.admin))
	admin.steps(t, []step{
		{name: "create sa", stdin: builderSAYAML, args: []string{"create", "-f", "-"}, want: []string{"serviceaccount/builder created"}},
		{name: "get sa", args: []string{"get", "sa", "-n", "team-sa"}, want: []string{"NAME      SECRETS   AGE", "builder   0 "}},
		{name: "kube-dns account", args: []string{"get", "serviceaccount", "kube-dns", "-n", "kube-system", "-o", "jsonpath={.metadata.name}"}, want: []string{"kube-dns"}},
		{name: "bind view", stdin: builderViewYAML, args: []string{"create", "-f", "-"}, want: []string{"rolebinding.rbac.authorization.k8s.io/builder-view created"}},
	})

	tokenPath := "/api/v1/namespaces/team-sa/serviceaccounts/builder/token"
	tr := s.must(t, http.StatusOK, "POST", tokenPath, map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": map[string]any{}})
	if tr["kind"] != "TokenRequest" || tr["apiVersion"] != "authentication.k8s.io/v1" {
		t.Fatalf("token request answered %v", tr)
	}
	if got := get(tr, "spec", "expirationSeconds"); got != float64(3600) {
		t.Errorf("default expirationSeconds = %v, want 3600", got)
	}
	if got := get(tr, "spec", "audiences"); len(got.([]any)) != 1 || got.([]any)[0] != "https://kubernetes.default.svc.cluster.local" {
		t.Errorf("default audiences = %v", got)
	}
	exp, err := time.Parse(time.RFC3339, str(tr, "status", "expirationTimestamp"))
	if err != nil || exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("expirationTimestamp %q (%v), want in an hour", str(tr, "status", "expirationTimestamp"), err)
	}
	token := creds{token: str(tr, "status", "token")}

	t.Run("allowed in its namespace", func(t *testing.T) {
		var last response
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, token, "GET", "/api/v1/namespaces/team-sa/pods", nil)
			return last.code == http.StatusOK
		}) {
			t.Fatalf("the service account cannot list pods in team-sa: %d %s", last.code, last.body)
		}
		out, err := newKubectlConfig(t, s.kubeconfig(token)).runStdin(t, "", "get", "pods", "-n", "team-sa")
		if err != nil || !strings.Contains(out, "No resources found") {
			t.Fatalf("kubectl --token get pods: %v\n%s", err, out)
		}
	})
	t.Run("forbidden elsewhere", func(t *testing.T) {
		wantStatus(t, s.doAs(t, token, "GET", "/api/v1/namespaces/other-sa/pods", nil), http.StatusForbidden,
			`User "system:serviceaccount:team-sa:builder" cannot list resource "pods"`)
		// view does not include serviceaccounts/token.
		wantStatus(t, s.doAs(t, token, "POST", tokenPath, map[string]any{}), http.StatusForbidden,
			`cannot create resource "serviceaccounts/token"`)
	})
	t.Run("bad requests", func(t *testing.T) {
		wantStatus(t, s.do(t, "POST", tokenPath, map[string]any{"spec": map[string]any{"expirationSeconds": 599}}), http.StatusUnprocessableEntity,
			"spec.expirationSeconds")
		wantStatus(t, s.do(t, "POST", "/api/v1/namespaces/team-sa/serviceaccounts/nobody/token", map[string]any{}), http.StatusNotFound,
			`"nobody" not found`)
	})
	t.Run("another audience is 401", func(t *testing.T) {
		other := s.must(t, http.StatusOK, "POST", tokenPath, map[string]any{"spec": map[string]any{"audiences": []string{"https://vault.example"}, "expirationSeconds": 600}})
		if got := get(other, "spec", "expirationSeconds"); got != float64(600) {
			t.Errorf("expirationSeconds = %v, want 600", got)
		}
		wantStatus(t, s.doAs(t, creds{token: str(other, "status", "token")}, "GET", "/api/v1/namespaces/team-sa/pods", nil), http.StatusUnauthorized, "")
	})
	t.Run("expired is 401", func(t *testing.T) {
		// A token the apiserver's key signed for the account, an hour past
		// its expiry (a real one lasts at least 10 minutes).
		data, err := os.ReadFile(filepath.Join(s.dataDir, "pki", "sa.key"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := pki.ParseKey(data)
		if err != nil {
			t.Fatal(err)
		}
		sa := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/team-sa/serviceaccounts/builder", nil)
		past := time.Now().Add(-2 * time.Hour)
		claims := jwt.MapClaims{
			"iss": authn.DefaultServiceAccountIss, "sub": "system:serviceaccount:team-sa:builder", "aud": []string{authn.DefaultAPIAudience},
			"iat": past.Unix(), "nbf": past.Unix(), "exp": past.Add(time.Hour).Unix(),
			"kubernetes.io": map[string]any{"namespace": "team-sa", "serviceaccount": map[string]any{"name": "builder", "uid": str(sa, "metadata", "uid")}},
		}
		expired, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.doAs(t, creds{token: expired}, "GET", "/api/v1/namespaces/team-sa/pods", nil), http.StatusUnauthorized, "")
		// The same claims unexpired are accepted: the refusal is the expiry.
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		fresh, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.doAs(t, creds{token: fresh}, "GET", "/api/v1/namespaces/team-sa/pods", nil); r.code != http.StatusOK {
			t.Fatalf("the same token unexpired: %d %s", r.code, r.body)
		}
	})
	t.Run("gRPC", func(t *testing.T) {
		c := corev1.NewServiceAccountServiceClient(s.as(t, s.admin).Conn())
		out, err := c.CreateToken(ctx(t), &corev1.TokenRequest{Metadata: &metav1.ObjectMeta{Namespace: "team-sa", Name: "builder"}})
		if err != nil || strings.Count(out.GetStatus().GetToken(), ".") != 2 {
			t.Fatalf("CreateToken = %v, %v", out, err)
		}
		_, err = corev1.NewServiceAccountServiceClient(s.as(t, token).Conn()).CreateToken(ctx(t), &corev1.TokenRequest{Metadata: &metav1.ObjectMeta{Namespace: "team-sa", Name: "builder"}})
		wantCode(t, err, codes.PermissionDenied, "CreateToken as the service account")
	})
	t.Run("deleted account is 401", func(t *testing.T) {
		s.must(t, http.StatusOK, "DELETE", "/api/v1/namespaces/team-sa/serviceaccounts/builder", nil)
		var last response
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, token, "GET", "/api/v1/namespaces/team-sa/pods", nil)
			return last.code == http.StatusUnauthorized
		}) {
			t.Fatalf("token of a deleted account: %d %s", last.code, last.body)
		}
		// A new account of the same name has another UID: the old token stays refused.
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/team-sa/serviceaccounts", map[string]any{"metadata": map[string]any{"name": "builder"}})
		fresh := creds{token: str(s.must(t, http.StatusOK, "POST", tokenPath, map[string]any{}), "status", "token")}
		if !poll(10*time.Second, func() bool {
			return s.doAs(t, fresh, "GET", "/api/v1/namespaces/team-sa/pods", nil).code == http.StatusOK
		}) {
			t.Fatal("the re-created account's token is not accepted")
		}
		wantStatus(t, s.doAs(t, token, "GET", "/api/v1/namespaces/team-sa/pods", nil), http.StatusUnauthorized, "")
	})
}

const builderSAYAML = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: team-sa
`

// builderViewYAML binds the builder service account to view in team-sa.
const builderViewYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: builder-view
  namespace: team-sa
subjects:
- kind: ServiceAccount
  name: builder
  namespace: team-sa
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
`
