package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestSecureGRPC checks the same rules over gRPC: client certificates,
// the node authoriser, and that identity metadata from a client is ignored.
func TestSecureGRPC(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
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
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
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

// TestSecureNoEscalation: a namespace admin may bind the roles it holds
// but not cluster-admin, and may not write a role granting more than it has.
func TestSecureNoEscalation(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "team-x")
	if _, err := s.cs.RoleBindings().Create(ctx(t), &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: "nina-admin", Namespace: "team-x"},
		RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects: []*rbacv1.Subject{{Kind: "User", Name: "nina"}}}); err != nil {
		t.Fatal(err)
	}
	nina := s.as(t, s.issue(t, s.ca, "nina"))
	bind := func(name, role string) error {
		_, err := nina.RoleBindings().Create(ctx(t), &rbacv1.RoleBinding{Metadata: &metav1.ObjectMeta{Name: name, Namespace: "team-x"},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			Subjects: []*rbacv1.Subject{{Kind: "User", Name: "friend"}}})
		return err
	}
	if !poll(10*time.Second, func() bool { return bind("friend-view", "view") == nil }) {
		t.Fatalf("nina cannot bind view in team-x: %v", bind("friend-view", "view"))
	}
	wantGRPC(t, bind("friend-root", "cluster-admin"), codes.PermissionDenied,
		`rolebindings.rbac.authorization.k8s.io "friend-root" is forbidden: user "nina" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held: {APIGroups:["*"], Resources:["*"], Verbs:["*"]}`)
	_, err := nina.Roles().Create(ctx(t), &rbacv1.Role{Metadata: &metav1.ObjectMeta{Name: "nodes", Namespace: "team-x"},
		Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"nodes"}}}})
	wantGRPC(t, err, codes.PermissionDenied, `{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`)
	if _, err := nina.Roles().Create(ctx(t), &rbacv1.Role{Metadata: &metav1.ObjectMeta{Name: "pods", Namespace: "team-x"},
		Rules: []*rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, ApiGroups: []string{""}, Resources: []string{"pods"}}}}); err != nil {
		t.Fatalf("nina writing a role within her permissions: %v", err)
	}
}
