package integration

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestServerManagedMetadata checks the metadata only the server sets.
func TestServerManagedMetadata(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	const pods = "/api/v1/namespaces/default/pods"
	const deploys = "/apis/apps/v1/namespaces/default/deployments"

	t.Run("create sets uid and creationTimestamp, ignores client values", func(t *testing.T) {
		p := podJSON("meta", nil)
		m := p["metadata"].(obj)
		m["uid"], m["resourceVersion"], m["creationTimestamp"], m["generation"] = "client-uid", "42", "2001-01-01T00:00:00Z", 7
		before := time.Now().Add(-2 * time.Second)
		got := s.must(t, http.StatusCreated, "POST", pods, p)
		uid := str(got, "metadata", "uid")
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(uid) {
			t.Fatalf("uid = %q, want a server-generated UUID", uid)
		}
		created, err := time.Parse(time.RFC3339, str(got, "metadata", "creationTimestamp"))
		if err != nil || created.Before(before) || created.After(time.Now().Add(2*time.Second)) {
			t.Fatalf("creationTimestamp = %q (%v), want about now", str(got, "metadata", "creationTimestamp"), err)
		}
		if rv := str(got, "metadata", "resourceVersion"); rv == "42" || rv == "" {
			t.Fatalf("resourceVersion = %q, want the server's revision", rv)
		}
		if g := get(got, "metadata", "generation"); g != float64(1) {
			t.Fatalf("generation = %v, want 1", g)
		}
	})

	t.Run("generateName", func(t *testing.T) {
		p := podJSON("", nil)
		p["metadata"] = obj{"generateName": "web-"}
		a := s.must(t, http.StatusCreated, "POST", pods, p)
		b := s.must(t, http.StatusCreated, "POST", pods, p)
		an, bn := str(a, "metadata", "name"), str(b, "metadata", "name")
		if !strings.HasPrefix(an, "web-") || len(an) != len("web-")+5 || an == bn || str(a, "metadata", "generateName") != "web-" {
			t.Fatalf("generated names %q and %q, want two distinct web-xxxxx", an, bn)
		}
		s.must(t, http.StatusOK, "GET", pods+"/"+an, nil)
	})

	t.Run("generation moves with spec, not metadata", func(t *testing.T) {
		d := s.must(t, http.StatusCreated, "POST", deploys, deploymentJSON("gen", 1))
		d["metadata"].(obj)["labels"] = map[string]any{"team": "a"}
		d = s.must(t, http.StatusOK, "PUT", deploys+"/gen", d)
		if g := get(d, "metadata", "generation"); g != float64(1) {
			t.Fatalf("generation after a label change = %v, want 1", g)
		}
		d["spec"].(obj)["replicas"] = 4
		d = s.must(t, http.StatusOK, "PUT", deploys+"/gen", d)
		if g := get(d, "metadata", "generation"); g != float64(2) {
			t.Fatalf("generation after a replicas change = %v, want 2", g)
		}
		d["metadata"].(obj)["generation"] = 99
		d["metadata"].(obj)["uid"] = "forged"
		d = s.must(t, http.StatusOK, "PUT", deploys+"/gen", d)
		if get(d, "metadata", "generation") != float64(2) || str(d, "metadata", "uid") == "forged" {
			t.Fatalf("client-set generation or uid was kept: %v", d["metadata"])
		}
	})

	t.Run("update ignores status, updateStatus ignores spec", func(t *testing.T) {
		p := s.must(t, http.StatusCreated, "POST", pods, podJSON("split", nil))
		p["status"] = obj{"phase": "Running"}
		p["metadata"].(obj)["labels"] = map[string]any{"x": "y"}
		p = s.must(t, http.StatusOK, "PUT", pods+"/split", p)
		if str(p, "status", "phase") != "Pending" || str(p, "metadata", "labels", "x") != "y" {
			t.Fatalf("update: phase %q labels %v, want Pending and the new label", str(p, "status", "phase"), get(p, "metadata", "labels"))
		}
		p["status"] = obj{"phase": "Running"}
		p["spec"].(obj)["containers"].([]any)[0].(obj)["image"] = "registry.local/app:2"
		p["metadata"].(obj)["labels"] = map[string]any{"x": "z"}
		p = s.must(t, http.StatusOK, "PUT", pods+"/split/status", p)
		image := str(p["spec"].(obj)["containers"].([]any)[0].(obj), "image")
		if str(p, "status", "phase") != "Running" || image != "registry.local/app:1" || str(p, "metadata", "labels", "x") != "y" {
			t.Fatalf("updateStatus: phase %q image %q label %q, want Running, app:1, y", str(p, "status", "phase"), image, str(p, "metadata", "labels", "x"))
		}
	})
}

// TestGracefulDeletion checks pods on nodes, finalizers and bindings.
func TestGracefulDeletion(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	pods := s.cs.Pods()

	t.Run("a pod on a node waits for grace period 0", func(t *testing.T) {
		p := pod("default", "on-node", nil)
		p.Spec.NodeName = "node-1"
		if _, err := pods.Create(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		marked, err := pods.Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "on-node"})
		if err != nil {
			t.Fatal(err)
		}
		if marked.GetMetadata().GetDeletionTimestamp() == nil || marked.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
			t.Fatalf("delete of a pod on a node returned %v, want deletionTimestamp and a 30s grace period", marked.GetMetadata())
		}
		still, err := pods.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "on-node"})
		if err != nil || still.GetMetadata().GetDeletionTimestamp() == nil {
			t.Fatalf("pod after a graceful delete: %v, %v; want it marked and still there", still.GetMetadata(), err)
		}
		if _, err := pods.Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "on-node", GracePeriodSeconds: proto.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		_, err = pods.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "on-node"})
		wantCode(t, err, codes.NotFound, "get after grace period 0")
	})

	t.Run("an unscheduled pod goes at once", func(t *testing.T) {
		if _, err := pods.Create(ctx(t), pod("default", "unscheduled", nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "unscheduled"}); err != nil {
			t.Fatal(err)
		}
		_, err := pods.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "unscheduled"})
		wantCode(t, err, codes.NotFound, "get after delete")
	})

	t.Run("finalizers hold an object until removed", func(t *testing.T) {
		cms := s.cs.ConfigMaps()
		cm := &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Name: "held", Namespace: "default", Finalizers: []string{"example.com/hold"}}}
		if _, err := cms.Create(ctx(t), cm); err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "held"}); err != nil {
			t.Fatal(err)
		}
		got, err := cms.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "held"})
		if err != nil || got.GetMetadata().GetDeletionTimestamp() == nil {
			t.Fatalf("object with a finalizer after delete: %v, %v; want it marked and still there", got.GetMetadata(), err)
		}
		got.Metadata.Finalizers = nil
		if _, err := cms.Update(ctx(t), got); err != nil {
			t.Fatalf("remove finalizer: %v", err)
		}
		_, err = cms.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "held"})
		wantCode(t, err, codes.NotFound, "get after the last finalizer was removed")
	})

	t.Run("a bound pod with a finalizer needs both", func(t *testing.T) {
		p := pod("default", "both", nil)
		p.Spec.NodeName = "node-1"
		p.Metadata.Finalizers = []string{"example.com/hold"}
		if _, err := pods.Create(ctx(t), p); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Delete(ctx(t), &metav1.DeleteOptions{Namespace: "default", Name: "both", GracePeriodSeconds: proto.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		got, err := pods.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "both"})
		if err != nil || got.GetMetadata().GetDeletionTimestamp() == nil {
			t.Fatalf("pod with a finalizer after grace period 0: %v, %v; want it marked and still there", got.GetMetadata(), err)
		}
		got.Metadata.Finalizers = nil
		if _, err := pods.Update(ctx(t), got); err != nil {
			t.Fatalf("remove finalizer: %v", err)
		}
		_, err = pods.Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "both"})
		wantCode(t, err, codes.NotFound, "get after the finalizer was removed")
	})

	t.Run("binding sets nodeName once", func(t *testing.T) {
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/default/pods", podJSON("bind-me", nil))
		binding := obj{"apiVersion": "v1", "kind": "Binding", "metadata": obj{"name": "bind-me"}, "target": obj{"kind": "Node", "name": "node-7"}}
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/default/pods/bind-me/binding", binding)
		got := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/pods/bind-me", nil)
		if str(got, "spec", "nodeName") != "node-7" {
			t.Fatalf("spec.nodeName after binding = %q, want node-7", str(got, "spec", "nodeName"))
		}
		binding["target"] = obj{"kind": "Node", "name": "node-8"}
		r := s.do(t, "POST", "/api/v1/namespaces/default/pods/bind-me/binding", binding)
		if r.code != http.StatusConflict || r.status(t).Reason != "Conflict" {
			t.Fatalf("second binding = HTTP %d %s, want 409 Conflict", r.code, r.body)
		}
		got = s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/pods/bind-me", nil)
		if str(got, "spec", "nodeName") != "node-7" {
			t.Fatalf("spec.nodeName after a refused binding = %q, want node-7", str(got, "spec", "nodeName"))
		}
		// Bound, the pod now deletes gracefully.
		marked := s.must(t, http.StatusOK, "DELETE", "/api/v1/namespaces/default/pods/bind-me", nil)
		if str(marked, "metadata", "deletionTimestamp") == "" {
			t.Fatalf("delete of a bound pod returned no deletionTimestamp: %v", marked["metadata"])
		}
		s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/pods/bind-me", nil)
		s.must(t, http.StatusOK, "DELETE", "/api/v1/namespaces/default/pods/bind-me", obj{"gracePeriodSeconds": 0})
		if r := s.do(t, "GET", "/api/v1/namespaces/default/pods/bind-me", nil); r.code != http.StatusNotFound {
			t.Fatalf("GET after a DELETE with gracePeriodSeconds 0 = HTTP %d, want 404", r.code)
		}
	})
}
