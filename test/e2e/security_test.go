//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A request without credentials gets 401 with Kubernetes' Status body,
// over REST (curl, as an outsider would) and over gRPC.
func TestUnauthenticatedIs401(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is needed: %v", err)
	}
	out, err := exec.Command("curl", "-sk", "-w", "\n%{http_code}", "https://"+cluster.APIAddr+"/api/v1/pods").Output()
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	// -w puts the status code on a line after the body.
	i := bytes.LastIndexByte(out, '\n')
	body, code := strings.TrimSpace(string(out[:max(i, 0)])), strings.TrimSpace(string(out[i+1:]))
	if code != "401" {
		t.Errorf("unauthenticated GET /api/v1/pods = %s, want 401; body %s", code, body)
	}
	var st struct {
		Kind, Status, Reason string
		Code                 int
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("401 body is not a Status: %v: %q", err, body)
	}
	if st.Kind != "Status" || st.Status != "Failure" || st.Reason != "Unauthorized" || st.Code != 401 {
		t.Errorf("401 body = %+v, want kind Status, status Failure, reason Unauthorized, code 401", st)
	}

	// A certificate from another CA proves nothing, whatever it claims.
	other, err := pki.NewCA("not-the-cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.IssueClient("kubernetes-admin", []string{pki.GroupMasters}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hc := cluster.httpClient(forged)
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("https://" + cluster.APIAddr + "/api/v1/pods")
	if err != nil {
		t.Fatalf("GET /api/v1/pods with another CA's certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/pods with another CA's certificate for kubernetes-admin = %s, want 401", resp.Status)
	}

	anon := dial(t, &config.Config{Server: "https://" + cluster.APIAddr, CAData: cluster.CA.CertPEM()})
	_, err = anon.Pods().List(context.Background(), &metav1.ListOptions{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC List pods without credentials = %v, want Unauthenticated", err)
	}
}

// A user bound only to ClusterRole view in one namespace (a RoleBinding)
// lists pods there with kubectl, and is forbidden, with Kubernetes'
// message, to list pods in another namespace or to create one in its own.
// The binding's creation is in the audit log.
func TestViewBindingIsNamespaced(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	other := ns + "-other"
	if _, err := cluster.CS.Namespaces().Create(context.Background(), &corev1.Namespace{ApiVersion: "v1", Kind: "Namespace", Metadata: &metav1.ObjectMeta{Name: other}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cluster.CS.Namespaces().Delete(context.Background(), &metav1.DeleteOptions{Name: other})
	})
	user := "e2e-viewer"
	binding := &rbacv1.RoleBinding{
		ApiVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding",
		Metadata: &metav1.ObjectMeta{Name: "viewer", Namespace: ns},
		RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects: []*rbacv1.Subject{{Kind: "User", ApiGroup: "rbac.authorization.k8s.io", Name: user}},
	}
	if _, err := cluster.CS.RoleBindings().Create(context.Background(), binding); err != nil {
		t.Fatal(err)
	}
	kc, err := cluster.kubeconfigFor("viewer-"+ns, user)
	if err != nil {
		t.Fatal(err)
	}
	// The binding reaches the authoriser's cache through a watch.
	if err := poll(30*time.Second, func() error {
		out, err := kubectl(kc, "", "-n", ns, "get", "pods")
		if err != nil {
			return fmt.Errorf("kubectl -n %s get pods as %s: %v: %s", ns, user, err, out)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	out, err := kubectl(kc, "", "-n", other, "get", "pods")
	want := fmt.Sprintf(`Error from server (Forbidden): pods is forbidden: User %q cannot list resource "pods" in API group "" in the namespace %q`, user, other)
	if err == nil || !strings.Contains(out, want) {
		t.Errorf("kubectl -n %s get pods as %s = %v: %q, want Forbidden: %s", other, user, err, out, want)
	}

	pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: forbidden\n  namespace: %s\nspec:\n  containers:\n  - name: c\n    image: tugboat.local/shell:latest\n", ns)
	out, err = kubectl(kc, pod, "create", "-f", "-")
	// kubectl create puts "error when creating" between the two.
	want = fmt.Sprintf(`pods is forbidden: User %q cannot create resource "pods" in API group "" in the namespace %q`, user, ns)
	if err == nil || !strings.Contains(out, "Error from server (Forbidden)") || !strings.Contains(out, want) {
		t.Errorf("kubectl create pod as %s = %v: %q, want Forbidden: %s", user, err, out, want)
	}
	if _, err := cluster.CS.Pods().Get(context.Background(), &metav1.GetOptions{Namespace: ns, Name: "forbidden"}); status.Code(err) != codes.NotFound {
		t.Errorf("the forbidden pod: get = %v, want NotFound", err)
	}

	t.Run("audited", func(t *testing.T) {
		want := auditEvent{Verb: "create", User: auditUser{Username: "kubernetes-admin"},
			ObjectRef: auditRef{Resource: "rolebindings", Namespace: ns, Name: "viewer"}}
		var got []auditEvent
		if err := poll(10*time.Second, func() error {
			got = auditEvents(t, func(e auditEvent) bool { return e.ObjectRef.Resource == "rolebindings" && e.ObjectRef.Namespace == ns })
			for _, e := range got {
				if e.Verb == want.Verb && e.User.Username == want.User.Username && e.ObjectRef.Name == want.ObjectRef.Name && e.ResponseStatus.Code/100 == 2 {
					return nil
				}
			}
			return fmt.Errorf("no audit line for create rolebindings %s/viewer by kubernetes-admin with a 2xx result", ns)
		}); err != nil {
			t.Errorf("%v in %s; its lines for rolebindings in %s: %+v", err, cluster.AuditLog, ns, got)
		}
		// The refused create is logged too, with its 403.
		if err := poll(10*time.Second, func() error {
			got = auditEvents(t, func(e auditEvent) bool { return e.ObjectRef.Resource == "pods" && e.ObjectRef.Namespace == ns })
			for _, e := range got {
				if e.Verb == "create" && e.User.Username == user && e.ResponseStatus.Code == http.StatusForbidden {
					return nil
				}
			}
			return fmt.Errorf("no audit line for create pods in %s by %s with result 403", ns, user)
		}); err != nil {
			t.Errorf("%v in %s; its lines for pods in %s: %+v", err, cluster.AuditLog, ns, got)
		}
	})
}

// A kubelet's credentials (system:node:e2e-node) cannot modify another
// Node, its labels (kubectl label: a REST patch) or its status (gRPC
// UpdateStatus, the kubelet's own call), nor the pods bound to another node, nor read a secret no pod of its node
// uses; it may read the other Node and a secret its pod uses.
func TestNodeIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const otherNode = "e2e-other-node"
	// Never schedulable: the other tests' pods keep to the real node.
	if _, err := cluster.CS.Nodes().Create(ctx, &corev1.Node{ApiVersion: "v1", Kind: "Node",
		Metadata: &metav1.ObjectMeta{Name: otherNode, Labels: map[string]string{"e2e": "other"}},
		Spec:     &corev1.NodeSpec{Unschedulable: true, Taints: []*corev1.Taint{{Key: "e2e", Value: "other", Effect: "NoSchedule"}}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cluster.CS.Nodes().Delete(context.Background(), &metav1.DeleteOptions{Name: otherNode})
	})
	kc := cluster.Kubeconfigs["kubelet"]
	node := fmt.Sprintf("system:node:%s", NodeName)
	// The node authoriser's reason names both nodes.
	wantNodes := fmt.Sprintf(`node %q can only modify its own Node, not %q`, NodeName, otherNode)

	t.Run("reads the other node", func(t *testing.T) {
		if out, err := kubectl(kc, "", "get", "node", otherNode); err != nil {
			t.Errorf("kubectl get node %s as %s: %v: %s", otherNode, node, err, out)
		}
	})
	t.Run("labels", func(t *testing.T) {
		out, err := kubectl(kc, "", "label", "node", otherNode, "stolen=true")
		if err == nil || !strings.Contains(out, "Error from server (Forbidden)") || !strings.Contains(out, wantNodes) {
			t.Errorf("kubectl label node %s as %s = %v: %q, want Forbidden: %s", otherNode, node, err, out, wantNodes)
		}
	})
	t.Run("status", func(t *testing.T) {
		// Over gRPC, as the kubelet writes its own node's status.
		cfg, err := config.Load(kc, "")
		if err != nil {
			t.Fatal(err)
		}
		cs := dial(t, cfg)
		n, err := cs.Nodes().Get(ctx, &metav1.GetOptions{Name: otherNode})
		if err != nil {
			t.Fatal(err)
		}
		n.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True"}}}
		if _, err := cs.Nodes().UpdateStatus(ctx, n); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), wantNodes) {
			t.Errorf("gRPC UpdateStatus of node %s as %s = %v, want PermissionDenied: %s", otherNode, node, err, wantNodes)
		}
	})
	t.Run("pods of another node", func(t *testing.T) {
		ns := namespace(t)
		pod := shellPod("elsewhere", "sleep", "100000")
		pod.Spec.NodeName = otherNode
		createPod(t, ns, pod)
		// No kubelet runs there: it goes at once.
		t.Cleanup(func() {
			_, _ = cluster.CS.Pods().Delete(context.Background(), &metav1.DeleteOptions{Namespace: ns, Name: "elsewhere", GracePeriodSeconds: ptr(int32(0))})
		})
		cfg, err := config.Load(kc, "")
		if err != nil {
			t.Fatal(err)
		}
		cs := dial(t, cfg)
		p, err := cluster.CS.Pods().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		p.Status = &corev1.PodStatus{Phase: "Failed", Reason: "Stolen"}
		want := fmt.Sprintf("node %q can only access pods bound to it", NodeName)
		if _, err := cs.Pods().UpdateStatus(ctx, p); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), want) {
			t.Errorf("gRPC UpdateStatus of pod %s/elsewhere (on %s) as %s = %v, want PermissionDenied: %s", ns, otherNode, node, err, want)
		}
		if _, err := cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: "elsewhere"}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("gRPC Delete of pod %s/elsewhere (on %s) as %s = %v, want PermissionDenied", ns, otherNode, node, err)
		}
	})
	t.Run("untouched", func(t *testing.T) {
		n, err := cluster.CS.Nodes().Get(ctx, &metav1.GetOptions{Name: otherNode})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := n.GetMetadata().GetLabels()["stolen"]; ok {
			t.Errorf("node %s got the label its neighbour tried to set: %v", otherNode, n.GetMetadata().GetLabels())
		}
		for _, c := range n.GetStatus().GetConditions() {
			if c.GetType() == "Ready" && c.GetStatus() == "True" {
				t.Errorf("node %s is Ready: its neighbour's status write went through", otherNode)
			}
		}
	})

	t.Run("secrets", func(t *testing.T) {
		ns := namespace(t)
		for _, name := range []string{"used", "unused"} {
			if _, err := cluster.CS.Secrets().Create(ctx, &corev1.Secret{ApiVersion: "v1", Kind: "Secret",
				Metadata: &metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{"k": name}}); err != nil {
				t.Fatal(err)
			}
		}
		createPod(t, ns, withVolume(shellPod("user", "sleep", "100000"), &corev1.Volume{Name: "used", Secret: &corev1.SecretVolumeSource{SecretName: "used"}}))
		// Once the pod is bound to the node, the node may read its secret.
		if err := poll(60*time.Second, func() error {
			out, err := kubectl(kc, "", "-n", ns, "get", "secret", "used")
			if err != nil {
				return fmt.Errorf("kubectl get secret used as %s: %v: %s", node, err, out)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		out, err := kubectl(kc, "", "-n", ns, "get", "secret", "unused")
		want := fmt.Sprintf(`secrets "unused" is forbidden: User %q cannot get resource "secrets" in API group "" in the namespace %q`, node, ns)
		if err == nil || !strings.Contains(out, "Error from server (Forbidden)") || !strings.Contains(out, want) {
			t.Errorf("kubectl get secret unused as %s = %v: %q, want Forbidden: %s", node, err, out, want)
		}
	})
}

// Logs and exec go through the apiserver to the kubelet's API, which
// serves TLS with the certificate it made for its node and admits the
// apiserver's kube-apiserver-kubelet-client certificate: both work, over
// gRPC and (logs) over REST with kubectl.
func TestLogsAndExecOverKubeletTLS(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(cluster.KubeletDir, "pki", "kubelet.crt"))
	if err != nil {
		t.Fatalf("the kubelet's serving certificate: %v", err)
	}
	cert, err := pki.ParseCert(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, NodeName) {
		t.Errorf("the kubelet's serving certificate names %v, want the node %s among them", cert.DNSNames, NodeName)
	}

	ns := namespace(t)
	createPod(t, ns, shellPod("talker", "sh", "-c", "echo hello over tls; exec sleep 100000"))
	waitPod(t, ns, "talker", 60*time.Second, "Running", running)
	// Running comes before the container's first line reaches its log:
	// poll until it has.
	var got string
	if err := poll(30*time.Second, func() error {
		if got = logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "talker"}); !strings.Contains(got, "hello over tls") {
			return fmt.Errorf("logs through the apiserver = %q, want hello over tls", got)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if out, err := kubectl(cluster.Kubeconfig, "", "-n", ns, "logs", "talker"); err != nil || !strings.Contains(out, "hello over tls") {
		t.Errorf("kubectl logs = %v: %q, want hello over tls", err, out)
	}
	stdout, stderr, code := execIn(t, ns, "talker", "c", "echo", "exec over tls")
	if code != 0 || strings.TrimSpace(stdout) != "exec over tls" {
		t.Errorf("exec through the apiserver = exit %d, stdout %q, stderr %q; want exit 0, exec over tls", code, stdout, stderr)
	}
}

// kubectl runs kubectl with a kubeconfig and stdin; it returns stdout and
// stderr together.
func kubectl(kubeconfig, stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "20s"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// dial connects with cfg; the connection closes when the test ends.
func dial(t *testing.T, cfg *config.Config) *clientset.Set {
	t.Helper()
	conn, err := config.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return clientset.New(conn)
}

// auditEvent is the part of an audit line the tests check.
type auditEvent struct {
	Verb           string    `json:"verb"`
	User           auditUser `json:"user"`
	ObjectRef      auditRef  `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

type auditUser struct {
	Username string `json:"username"`
}

type auditRef struct {
	Resource  string `json:"resource"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// auditEvents reads the apiserver's audit log and returns the events keep
// selects; a line that is not an event fails the test.
func auditEvents(t *testing.T, keep func(auditEvent) bool) []auditEvent {
	t.Helper()
	f, err := os.Open(cluster.AuditLog)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	var out []auditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log %s: a line is not JSON: %v: %q", cluster.AuditLog, err, sc.Text())
		}
		if keep(e) {
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	return out
}
