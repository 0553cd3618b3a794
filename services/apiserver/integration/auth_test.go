package integration

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
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
	s := start(t, options{secure: true, tokenFile: tokenFile})
	s.createNamespace(t, "team-a")

	t.Run("unauthenticated is 401", func(t *testing.T) {
		r := s.doAs(t, creds{}, "GET", "/api/v1/namespaces/default/pods", nil)
		wantStatus(t, r, http.StatusUnauthorized, "Unauthorized: no client certificate or bearer token was presented")
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
		wantStatus(t, s.doAs(t, s.issue(t, other, adminUser, pki.GroupMasters), "GET", "/api/v1/pods", nil),
			http.StatusUnauthorized, `client certificate "kubernetes-admin": signed by an unknown authority`)
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
		wantStatus(t, s.doAs(t, creds{token: expired.String()}, "GET", "/api/v1/namespaces/default/pods", nil),
			http.StatusUnauthorized, "bootstrap token oldold expired at")
		wantStatus(t, s.doAs(t, creds{token: "zzzzzz.0123456789abcdef"}, "GET", "/api/", nil),
			http.StatusUnauthorized, "bootstrap token zzzzzz is unknown")
		// Discovery is for every authenticated user.
		if r := s.doAs(t, creds{token: valid.String()}, "GET", "/apis", nil); r.code != http.StatusOK {
			t.Fatalf("bootstrap token /apis = %d %s", r.code, r.body)
		}
	})

	t.Run("service account and static tokens", func(t *testing.T) {
		sa, err := authn.LoadServiceAccountKey(filepath.Join(s.dataDir, "pki", "sa.key"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := sa.Issue("team-a", "builder", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, s.doAs(t, creds{token: tok}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusForbidden,
			`User "system:serviceaccount:team-a:builder" cannot list`)
		wantStatus(t, s.doAs(t, creds{token: "carol-token"}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusForbidden,
			`User "carol" cannot list`)
		wantStatus(t, s.doAs(t, creds{token: "not-a-token"}, "GET", "/api/v1/namespaces/team-a/pods", nil), http.StatusUnauthorized,
			"invalid bearer token")
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

// TestSecureGRPC checks the same rules over gRPC: client certificates,
// the node authoriser, and that identity metadata from a client is ignored.
func TestSecureGRPC(t *testing.T) {
	t.Parallel()
	s := start(t, options{secure: true})
	admin := s.cs
	for _, n := range []string{"n1", "n2"} {
		if _, err := admin.Nodes().Create(ctx(t), &corev1.Node{Metadata: &metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Pods().Create(ctx(t), &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "on-n2", Namespace: "default"},
		Spec: &corev1.PodSpec{NodeName: "n2", Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Pods().Create(ctx(t), &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "on-n1", Namespace: "default"},
		Spec: &corev1.PodSpec{NodeName: "n1", Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}}}); err != nil {
		t.Fatal(err)
	}
	n1 := s.as(t, s.issue(t, s.ca, "system:node:n1", "system:nodes"))

	t.Run("node writes its own node", func(t *testing.T) {
		node, err := n1.Nodes().Get(ctx(t), &metav1.GetOptions{Name: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		node.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}}
		if _, err := n1.Nodes().UpdateStatus(ctx(t), node); err != nil {
			t.Fatalf("n1 updating its own status: %v", err)
		}
	})
	t.Run("node cannot modify another node", func(t *testing.T) {
		other, err := n1.Nodes().Get(ctx(t), &metav1.GetOptions{Name: "n2"})
		if err != nil {
			t.Fatal(err)
		}
		other.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "False"}}}
		_, err = n1.Nodes().UpdateStatus(ctx(t), other)
		wantGRPC(t, err, codes.PermissionDenied, `nodes/status "n2" is forbidden: User "system:node:n1" cannot update resource "nodes/status" in API group "" at the cluster scope: node "n1" can only modify its own Node, not "n2"`)
		_, err = n1.Nodes().Delete(ctx(t), &metav1.DeleteOptions{Name: "n2"})
		wantGRPC(t, err, codes.PermissionDenied, `can only modify its own Node, not "n2"`)
	})
	t.Run("node and pods", func(t *testing.T) {
		var pod *corev1.Pod
		// The node authoriser learns of the pod through its watch: poll.
		if !poll(10*time.Second, func() bool {
			var err error
			pod, err = n1.Pods().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "on-n1"})
			return err == nil
		}) {
			t.Fatal("n1 cannot read its own pod")
		}
		pod.Status = &corev1.PodStatus{Phase: "Running"}
		if _, err := n1.Pods().UpdateStatus(ctx(t), pod); err != nil {
			t.Fatalf("n1 updating its pod's status: %v", err)
		}
		_, err := n1.Pods().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "on-n2"})
		wantGRPC(t, err, codes.PermissionDenied, "no relationship found between node \"n1\" and pod default/on-n2")
		_, err = n1.Pods().List(ctx(t), &metav1.ListOptions{})
		wantGRPC(t, err, codes.PermissionDenied, "can only list and watch pods with fieldSelector spec.nodeName=n1")
		list, err := n1.Pods().List(ctx(t), &metav1.ListOptions{FieldSelector: "spec.nodeName=n1"})
		if err != nil || len(list.GetItems()) != 1 {
			t.Fatalf("n1 listing its pods: %v %v", list, err)
		}
		_, err = n1.Secrets().List(ctx(t), &metav1.ListOptions{Namespace: "default"})
		wantGRPC(t, err, codes.PermissionDenied, "no relationship found")
	})
	t.Run("identity metadata from a client is not trusted", func(t *testing.T) {
		c := s.as(t, creds{})
		md := metadata.Pairs("x-tugboat-user", adminUser, "x-tugboat-group", pki.GroupMasters)
		_, err := c.Pods().List(metadata.NewOutgoingContext(ctx(t), md), &metav1.ListOptions{})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized: no client certificate or bearer token was presented")
		bob := s.as(t, s.issue(t, s.ca, "bob"))
		_, err = bob.Pods().List(metadata.NewOutgoingContext(ctx(t), md), &metav1.ListOptions{Namespace: "default"})
		wantGRPC(t, err, codes.PermissionDenied, `User "bob" cannot list resource "pods"`)
	})
	t.Run("another CA over gRPC", func(t *testing.T) {
		other, err := pki.NewCA("other")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.as(t, s.issue(t, other, adminUser, pki.GroupMasters)).Pods().List(ctx(t), &metav1.ListOptions{})
		wantGRPC(t, err, codes.Unauthenticated, "signed by an unknown authority")
	})
	t.Run("watch is authorised on its request", func(t *testing.T) {
		bob := s.as(t, s.issue(t, s.ca, "bob"))
		w, err := bob.Pods().Watch(ctx(t), &metav1.ListOptions{Namespace: "default"})
		if err == nil {
			_, err = w.Recv()
		}
		wantGRPC(t, err, codes.PermissionDenied, `User "bob" cannot watch resource "pods" in API group "" in the namespace "default"`)
	})
	t.Run("RBAC over gRPC", func(t *testing.T) {
		rb := s.cs.RoleBindings()
		if _, err := rb.Create(ctx(t), &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "bob-edit", Namespace: "default"},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects: []*rbacv1.Subject{{Kind: "User", Name: "bob"}}}); err != nil {
			t.Fatal(err)
		}
		bob := s.as(t, s.issue(t, s.ca, "bob"))
		if !poll(10*time.Second, func() bool {
			_, err := bob.ConfigMaps().Create(ctx(t), &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "cm", Namespace: "default"}})
			return err == nil
		}) {
			t.Fatal("bob cannot create a config map after being bound to edit")
		}
		_, err := bob.Nodes().List(ctx(t), &metav1.ListOptions{})
		wantGRPC(t, err, codes.PermissionDenied, `nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope`)
	})
}

func wantGRPC(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	st := status.Convert(err)
	if err == nil || st.Code() != code || !strings.Contains(st.Message(), msg) {
		t.Fatalf("err = %v, want %v %q", err, code, msg)
	}
}

// TestSecureTLSOnly checks the serving certificate: names and the TLS
// versions a client must speak.
func TestSecureTLSOnly(t *testing.T) {
	t.Parallel()
	s := start(t, options{secure: true})
	conn, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.ca.Pool(), ServerName: "kubernetes.default.svc", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS as kubernetes.default.svc: %v", err)
	}
	conn.Close()
	if _, err := tls.Dial("tcp", s.addr, &tls.Config{RootCAs: s.ca.Pool(), ServerName: "example.com", MinVersion: tls.VersionTLS12}); err == nil {
		t.Fatal("the serving certificate is valid for example.com")
	}
	st, err := os.Stat(filepath.Join(s.dataDir, "pki", "ca.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode %v, %v", st.Mode(), err)
	}
}

// TestSecureKubeconfig dials a TLS apiserver through the client module from
// a kubeconfig file that references its CA, certificate and key by relative
// paths, and from one with a bearer token.
func TestSecureKubeconfig(t *testing.T) {
	t.Parallel()
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("dave-token,dave,1004\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, options{secure: true, tokenFile: tokenFile})
	dir := t.TempDir()
	admin := s.issue(t, s.ca, adminUser, pki.GroupMasters)
	for name, data := range map[string][]byte{"ca.crt": s.ca.CertPEM(), "admin.crt": admin.cert, "admin.key": admin.key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := `apiVersion: v1
kind: Config
clusters:
- name: tugboat
  cluster:
    server: https://` + s.addr + `
    certificate-authority: ca.crt
users:
- name: admin
  user:
    client-certificate: admin.crt
    client-key: admin.key
- name: dave
  user:
    token: dave-token
contexts:
- name: admin
  context: {cluster: tugboat, user: admin}
- name: dave
  context: {cluster: tugboat, user: dave, namespace: team-b}
current-context: admin
`
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	dial := func(context string) *clientset.Set {
		cfg, err := config.Load(path, context)
		if err != nil {
			t.Fatalf("load %s: %v", context, err)
		}
		conn, err := config.Dial(ctx(t), cfg)
		if err != nil {
			t.Fatalf("dial %s: %v", context, err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return clientset.New(conn)
	}
	if _, err := dial("admin").Nodes().List(ctx(t), &metav1.ListOptions{}); err != nil {
		t.Fatalf("admin from a kubeconfig file: %v", err)
	}
	_, err := dial("dave").Pods().List(ctx(t), &metav1.ListOptions{Namespace: "team-b"})
	wantGRPC(t, err, codes.PermissionDenied, `User "dave" cannot list resource "pods" in API group "" in the namespace "team-b"`)
}
