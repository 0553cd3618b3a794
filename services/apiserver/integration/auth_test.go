package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"google.golang.org/grpc/codes"
)

// TestSecureREST runs a server with TLS, client certificates, bootstrap
// tokens, service-account tokens, a token file and Node,RBAC, and checks
// who may do what over REST, with kubectl and net/http.
func TestSecureREST(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("carol-token,carol,1003,\"ops\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, options{tokenFile: tokenFile})
	s.createNamespace(t, "team-a")

	t.Run("unauthenticated is 401", func(t *testing.T) {
		r := s.doAs(t, creds{}, "GET", "/api/v1/namespaces/default/pods", nil)
		if string(r.body) != unauthorizedBody {
			t.Fatalf("HTTP %d %s, want 401 %s", r.code, r.body, unauthorizedBody)
		}
		if st := r.status(t); st.Reason != "Unauthorized" || st.Code != 401 || st.Kind != "Status" {
			t.Fatalf("status %+v", st)
		}
		out, err := newKubectlConfig(t, s.kubeconfig(creds{token: "bogus"})).runStdin(t, "", "get", "pods")
		if err == nil || !strings.Contains(out, "You must be logged in to the server") {
			t.Fatalf("kubectl with a bad token: %v\n%s", err, out)
		}
	})
	t.Run("health is public", func(t *testing.T) {
		if r := s.doAs(t, creds{}, "GET", "/readyz", nil); r.code != http.StatusOK {
			t.Fatalf("/readyz = %d %s", r.code, r.body)
		}
	})
	t.Run("plaintext on the TLS port is refused", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + s.addr + "/api/v1/pods")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("plaintext request answered %s", resp.Status)
			}
		}
	})

	t.Run("admin does everything", func(t *testing.T) {
		k := newKubectlConfig(t, s.kubeconfig(s.issue(t, s.ca, adminUser, pki.GroupMasters)))
		k.steps(t, []step{
			{name: "create pod", stdin: strings.ReplaceAll(podYAMLFor("web"), "NS", "team-a"), args: []string{"create", "-f", "-"}, want: []string{"pod/web created"}},
			{name: "get pods", args: []string{"get", "pods", "-n", "team-a"}, want: []string{"web"}},
			{name: "nodes", args: []string{"get", "nodes"}, want: []string{"No resources found"}},
			{name: "cluster roles", args: []string{"get", "clusterroles", "view"}, want: []string{"view"}},
			{name: "bind alice to view in team-a", stdin: aliceViewYAML, args: []string{"create", "-f", "-"}, want: []string{"rolebinding.rbac.authorization.k8s.io/alice-view created"}},
			{name: "discovery", args: []string{"api-resources"}, want: []string{"clusterroles", "rbac.authorization.k8s.io/v1"}},
		})
	})

	alice := s.issue(t, s.ca, "alice")
	t.Run("view in one namespace", func(t *testing.T) {
		// The binding reaches the authoriser through its watch: poll.
		var last response
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, alice, "GET", "/api/v1/namespaces/team-a/pods", nil)
			return last.code == http.StatusOK
		}) {
			t.Fatalf("alice cannot list pods in team-a: %d %s", last.code, last.body)
		}
		if n := names(last.object(t)); len(n) != 1 || n[0] != "web" {
			t.Fatalf("alice sees %v", n)
		}
		wantStatus(t, s.doAs(t, alice, "GET", "/api/v1/namespaces/kube-system/pods", nil), http.StatusForbidden,
			`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"`)
		wantStatus(t, s.doAs(t, alice, "POST", "/api/v1/namespaces/team-a/pods", podJSON("evil", nil)), http.StatusForbidden,
			`pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "team-a"`)
		wantStatus(t, s.doAs(t, alice, "DELETE", "/api/v1/namespaces/team-a/pods/web", nil), http.StatusForbidden,
			`pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "team-a"`)
		wantStatus(t, s.doAs(t, alice, "GET", "/api/v1/namespaces/team-a/secrets", nil), http.StatusForbidden, `cannot list resource "secrets"`)
		wantStatus(t, s.doAs(t, alice, "GET", "/metrics", nil), http.StatusForbidden, `User "alice" cannot get path "/metrics"`)

		k := newKubectlConfig(t, s.kubeconfig(alice))
		k.steps(t, []step{
			{name: "list in team-a", args: []string{"get", "pods", "-n", "team-a"}, want: []string{"web"}},
			{name: "list in kube-system", args: []string{"get", "pods", "-n", "kube-system"}, wantErr: true,
				want: []string{`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"`}},
			{name: "label is a patch", args: []string{"label", "pod", "web", "x=y", "-n", "team-a"}, wantErr: true,
				want: []string{`User "alice" cannot patch resource "pods" in API group "" in the namespace "team-a"`}},
			{name: "delete", args: []string{"delete", "pod", "web", "-n", "team-a"}, wantErr: true, want: []string{"forbidden"}},
		})
	})

	t.Run("spoofed identity headers are ignored", func(t *testing.T) {
		r := s.doAs(t, alice, "GET", "/api/v1/namespaces/kube-system/pods", nil)
		req, err := http.NewRequestWithContext(ctx(t), "GET", s.base+"/api/v1/namespaces/kube-system/pods", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Grpc-Metadata-X-Tugboat-User", adminUser)
		req.Header.Set("Grpc-Metadata-X-Tugboat-Group", pki.GroupMasters)
		req.Header.Set("X-Tugboat-User", adminUser)
		resp, err := s.httpClient(t, alice).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || r.code != http.StatusForbidden {
			t.Fatalf("alice with spoofed headers got %s", resp.Status)
		}
	})

	t.Run("certificate of another CA is 401", func(t *testing.T) {
		other, err := pki.NewCA("other")
		if err != nil {
			t.Fatal(err)
		}
		foreign := s.issue(t, other, adminUser, pki.GroupMasters)
		wantStatus(t, s.doAs(t, foreign, "GET", "/api/v1/pods", nil),
			http.StatusUnauthorized, `client certificate "kubernetes-admin": signed by an unknown authority`)
		// A write is audited with the reason (REST, then gRPC).
		wantStatus(t, s.doAs(t, foreign, "POST", "/api/v1/namespaces/team-a/pods", podJSON("foreign-rest", nil)),
			http.StatusUnauthorized, "signed by an unknown authority")
		_, err = s.as(t, foreign).Pods().Create(ctx(t), pod("team-a", "foreign-grpc", nil))
		wantGRPC(t, err, codes.Unauthenticated, "signed by an unknown authority")
	})

	t.Run("bootstrap tokens", func(t *testing.T) {
		now := time.Now()
		valid := bootstraptoken.New(bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}, time.Hour, now, "test")
		expired := bootstraptoken.New(bootstraptoken.Token{ID: "oldold", Secret: "0123456789abcdef"}, time.Hour, now.Add(-2*time.Hour), "test")
		for _, i := range []bootstraptoken.Info{valid, expired} {
			if _, err := s.cs.Secrets().Create(ctx(t), i.AsSecret()); err != nil {
				t.Fatal(err)
			}
		}
		var last response
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, creds{token: valid.String()}, "GET", "/api/v1/namespaces/default/pods", nil)
			return last.code == http.StatusForbidden
		}) {
			t.Fatalf("valid bootstrap token: %d %s", last.code, last.body)
		}
		wantStatus(t, last, http.StatusForbidden, `User "system:bootstrap:abcdef" cannot list resource "pods"`)
		// The expired token's Secret reaches the cache on its own event.
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, creds{token: expired.String()}, "GET", "/api/v1/namespaces/default/pods", nil)
			return strings.Contains(string(last.body), "expired at")
		}) {
			t.Fatalf("expired bootstrap token: %d %s", last.code, last.body)
		}
		wantStatus(t, last, http.StatusUnauthorized, "bootstrap token oldold expired at")
		wantStatus(t, s.doAs(t, creds{token: expired.String()}, "DELETE", "/api/v1/namespaces/team-a/pods/web", nil),
			http.StatusUnauthorized, "bootstrap token oldold expired at")
		wantStatus(t, s.doAs(t, creds{token: "zzzzzz.0123456789abcdef"}, "GET", "/api/", nil),
			http.StatusUnauthorized, "bootstrap token zzzzzz is unknown")
		// Discovery is for every authenticated user.
		if r := s.doAs(t, creds{token: valid.String()}, "GET", "/apis", nil); r.code != http.StatusOK {
			t.Fatalf("bootstrap token /apis = %d %s", r.code, r.body)
		}
	})

	t.Run("service account and static tokens", func(t *testing.T) {
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/team-a/serviceaccounts", map[string]any{"metadata": map[string]any{"name": "builder"}})
		tok := str(s.must(t, http.StatusOK, "POST", "/api/v1/namespaces/team-a/serviceaccounts/builder/token", map[string]any{}), "status", "token")
		// The account reaches the authenticator through its watch: poll.
		var last response
		if !poll(10*time.Second, func() bool {
			last = s.doAs(t, creds{token: tok}, "GET", "/api/v1/namespaces/team-a/pods", nil)
			return last.code != http.StatusUnauthorized
		}) {
			t.Fatalf("service account token: %d %s", last.code, last.body)
		}
		wantStatus(t, s.doAs(t, creds{token: tok}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusForbidden,
			`User "system:serviceaccount:team-a:builder" cannot list`)
		wantStatus(t, s.doAs(t, creds{token: "carol-token"}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusForbidden,
			`User "carol" cannot list`)
		wantStatus(t, s.doAs(t, creds{token: "not-a-token"}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusUnauthorized,
			"invalid bearer token")
	})

	t.Run("metrics count refusals", func(t *testing.T) {
		r := s.do(t, "GET", "/metrics", nil)
		if r.code != http.StatusOK {
			t.Fatalf("admin GET /metrics = %d %s", r.code, r.body)
		}
		for _, want := range []string{"tugboat_apiserver_authentication_failures_total ", `tugboat_apiserver_authorization_decisions_total{decision="forbidden"} `} {
			i := strings.Index(string(r.body), want)
			if i < 0 {
				t.Fatalf("/metrics lacks %s", want)
			}
			v := strings.Fields(string(r.body[i+len(want):]))[0]
			if v == "0" {
				t.Errorf("%s is 0 after refused requests", want)
			}
		}
	})
	t.Run("audit", func(t *testing.T) {
		var log string
		if !poll(10*time.Second, func() bool {
			b, _ := os.ReadFile(s.auditLog())
			log = string(b)
			return strings.Contains(log, `"resource":"rolebindings"`)
		}) {
			t.Fatalf("audit log lacks the rolebinding:\n%s", log)
		}
		var created, denied bool
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, `"username":"kubernetes-admin"`) && strings.Contains(line, `"verb":"create"`) &&
				strings.Contains(line, `"resource":"pods","namespace":"team-a","name":"web"`) && strings.Contains(line, `"code":201`) {
				created = true
			}
			if strings.Contains(line, `"username":"alice"`) && strings.Contains(line, `"verb":"delete"`) && strings.Contains(line, `"code":403`) {
				denied = true
			}
			if strings.Contains(line, `"verb":"list"`) || strings.Contains(line, `"verb":"get"`) {
				t.Errorf("a read was audited: %s", line)
			}
		}
		if !created || !denied {
			t.Fatalf("audit log lacks the admin's create (%v) or alice's refused delete (%v):\n%s", created, denied, log)
		}
		for name, want := range map[string]string{
			"foreign certificate, REST": `"verb":"create","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"pods","namespace":"team-a","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: client certificate \"kubernetes-admin\": signed by an unknown authority`,
			"foreign certificate, gRPC": `"name":"foreign-grpc","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: client certificate \"kubernetes-admin\": signed by an unknown authority`,
			"expired bootstrap token":   `"verb":"delete","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"pods","namespace":"team-a","name":"web","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: bootstrap token oldold expired at`,
		} {
			if !strings.Contains(log, want) {
				t.Errorf("audit log lacks the refused %s: %s\n%s", name, want, log)
			}
		}
		st, err := os.Stat(s.auditLog())
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("audit log mode %v, %v", st.Mode(), err)
		}
	})
}

// aliceViewYAML binds alice to view in team-a. (kubectl create rolebinding
// would send Kubernetes' protobuf, which the REST layer does not read.)
const aliceViewYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: alice-view
  namespace: team-a
subjects:
- kind: User
  name: alice
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
`

// podYAMLFor is a pod manifest in namespace NS.
func podYAMLFor(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: NS\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
}
