package integration

import (
	"net/http"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestNamespaces checks the system namespaces and that nothing is written
// into a namespace that does not exist.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	s := start(t, options{})

	t.Run("system namespaces exist at start", func(t *testing.T) {
		for _, ns := range []string{"default", "kube-system"} {
			got := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/"+ns, nil)
			if str(got, "metadata", "name") != ns || str(got, "status", "phase") != "Active" {
				t.Fatalf("namespace %s = %v, want it Active", ns, got)
			}
		}
	})

	t.Run("create in a missing namespace is 404 and writes nothing", func(t *testing.T) {
		before := s.etcdState(t)
		r := s.do(t, "POST", "/api/v1/namespaces/nowhere/pods", podJSON("lost", nil))
		st := r.status(t)
		if r.code != http.StatusNotFound || st.Reason != "NotFound" || !strings.Contains(st.Message, `"nowhere"`) || st.Details.Name != "nowhere" || st.Details.Kind != "namespaces" {
			t.Fatalf("create in a missing namespace = HTTP %d %s, want 404 naming namespace nowhere", r.code, r.body)
		}
		_, err := s.cs.Pods().Create(ctx(t), pod("nowhere", "lost-grpc", nil))
		if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "nowhere") {
			t.Fatalf("gRPC create in a missing namespace: %v, want NotFound naming it", err)
		}
		if after := s.etcdState(t); after != before {
			t.Fatalf("etcd changed from %+v to %+v: something was written", before, after)
		}
		list, err := s.cs.Pods().List(ctx(t), &metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.GetItems() {
			if p.GetMetadata().GetNamespace() == "nowhere" {
				t.Fatalf("pod %s was stored in the missing namespace", p.GetMetadata().GetName())
			}
		}
	})
}
