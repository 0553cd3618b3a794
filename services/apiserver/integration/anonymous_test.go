package integration

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
)

// unauthorizedBody is Kubernetes' 401 for a request without credentials.
const unauthorizedBody = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"

const clusterInfo = "/api/v1/namespaces/kube-public/configmaps/cluster-info"

// TestAnonymous: without credentials only GET /healthz, /livez, /readyz,
// /version and the cluster-info ConfigMap (REST and gRPC) are answered, as
// system:anonymous; anything else is a 401 with Kubernetes' Status body
// (REST) or Unauthenticated (gRPC), not a 403. A presented credential that
// is refused is a 401 with its reason, in the response, the log and the
// audit log.
func TestAnonymous(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	s := start(t, options{logCore: core})
	anon := creds{}
	grpcAnon := s.as(t, anon)

	t.Run("public requests", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
			if r := s.doAs(t, anon, "GET", p, nil); r.code != http.StatusOK {
				t.Errorf("anonymous GET %s = %d %s, want 200", p, r.code, r.body)
			}
		}
		// Not published yet (tug init does): 404, so authorised.
		wantStatus(t, s.doAs(t, anon, "GET", clusterInfo, nil), http.StatusNotFound, `configmaps "cluster-info" not found`)
		_, err := grpcAnon.ConfigMaps().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-public", Name: "cluster-info"})
		wantGRPC(t, err, codes.NotFound, `configmaps "cluster-info" not found`)
		if _, err := s.cs.ConfigMaps().Create(ctx(t), &corev1.ConfigMap{Metadata: &metav1.ObjectMeta{Namespace: "kube-public", Name: "cluster-info"},
			Data: map[string]string{"kubeconfig": "x"}}); err != nil {
			t.Fatal(err)
		}
		if r := s.doAs(t, anon, "GET", clusterInfo, nil); r.code != http.StatusOK || !strings.Contains(string(r.body), `"kubeconfig":"x"`) {
			t.Fatalf("anonymous REST GET of cluster-info = %d %s", r.code, r.body)
		}
		cm, err := grpcAnon.ConfigMaps().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-public", Name: "cluster-info"})
		if err != nil || cm.GetData()["kubeconfig"] != "x" {
			t.Fatalf("anonymous gRPC Get of cluster-info = %v, %v", cm, err)
		}
	})

	t.Run("anything else is 401", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/pods"},
			{"GET", "/api"},
			{"GET", "/apis"},
			{"GET", "/metrics"},
			{"GET", "/openapi/v2"},
			{"GET", "/api/v1/namespaces/kube-public/configmaps"},
			{"GET", "/api/v1/namespaces/kube-public/configmaps/other"},
			{"GET", "/api/v1/namespaces/default/configmaps/cluster-info"},
			{"GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info?watch=true"},
			{"PUT", clusterInfo},
			{"DELETE", clusterInfo},
			{"POST", "/api/v1/namespaces/default/pods"},
		} {
			got := s.doAs(t, anon, r.method, r.path, nil)
			if got.code != http.StatusUnauthorized || string(got.body) != unauthorizedBody {
				t.Errorf("anonymous %s %s = %d %s, want 401 %s", r.method, r.path, got.code, got.body, unauthorizedBody)
			}
		}
		_, err := grpcAnon.ConfigMaps().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-public", Name: "other"})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
		_, err = grpcAnon.ConfigMaps().List(ctx(t), &metav1.ListOptions{Namespace: "kube-public"})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
		_, err = grpcAnon.Secrets().List(ctx(t), &metav1.ListOptions{Namespace: "kube-system"})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w, err := grpcAnon.ConfigMaps().Watch(c, &metav1.ListOptions{Namespace: "kube-public", FieldSelector: "metadata.name=cluster-info"})
		if err == nil {
			_, err = w.Recv()
		}
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
		_, err = grpcAnon.Pods().Create(ctx(t), &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "anon"},
			Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}}})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
	})

	t.Run("refused credentials are 401 with a reason", func(t *testing.T) {
		wantStatus(t, s.doAs(t, creds{token: "abcdef.0000000000000000"}, "GET", clusterInfo, nil),
			http.StatusUnauthorized, "Unauthorized: bootstrap token abcdef is unknown")
		wantStatus(t, s.doAs(t, creds{token: "nope"}, "POST", "/api/v1/namespaces/default/pods", podJSON("rest-bad", nil)),
			http.StatusUnauthorized, "Unauthorized: invalid bearer token")
		_, err := s.as(t, creds{token: "zzzzzz.0000000000000000"}).Pods().Create(ctx(t), &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "grpc-bad"},
			Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "c", Image: "nginx"}}}})
		wantGRPC(t, err, codes.Unauthenticated, "Unauthorized: bootstrap token zzzzzz is unknown")
	})

	t.Run("the log says why", func(t *testing.T) {
		for _, reason := range []string{"no client certificate or bearer token was presented", "bootstrap token abcdef is unknown", "invalid bearer token", "bootstrap token zzzzzz is unknown"} {
			found := false
			for _, e := range logs.FilterMessage("request unauthenticated").All() {
				if strings.Contains(e.ContextMap()["reason"].(string), reason) {
					found = true
				}
			}
			if !found {
				t.Errorf("no \"request unauthenticated\" log line with reason %q", reason)
			}
		}
	})

	t.Run("the audit log says why", func(t *testing.T) {
		want := map[string]string{
			"anonymous REST create": `"requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: no client certificate or bearer token was presented"}`,
			"bad token REST create": `"responseStatus":{"code":401,"message":"Unauthorized: invalid bearer token"}`,
			"anonymous gRPC create": `"name":"anon","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: no client certificate or bearer token was presented"}`,
			"bad token gRPC create": `"name":"grpc-bad","apiVersion":"v1"},"responseStatus":{"code":401,"message":"Unauthorized: bootstrap token zzzzzz is unknown"}`,
		}
		var log string
		poll(10*time.Second, func() bool {
			b, _ := os.ReadFile(s.auditLog())
			log = string(b)
			for _, w := range want {
				if !strings.Contains(log, w) {
					return false
				}
			}
			return true
		})
		for name, w := range want {
			if !strings.Contains(log, w) {
				t.Errorf("audit log lacks the %s: %s\n%s", name, w, log)
			}
		}
	})
}

// TestAnonymousOff: with --anonymous-auth=false even the public requests
// need credentials.
func TestAnonymousOff(t *testing.T) {
	t.Parallel()
	s := start(t, options{noAnonymous: true})
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version", clusterInfo} {
		if r := s.doAs(t, creds{}, "GET", p, nil); r.code != http.StatusUnauthorized || string(r.body) != unauthorizedBody {
			t.Errorf("anonymous GET %s = %d %s, want 401 %s", p, r.code, r.body, unauthorizedBody)
		}
	}
	_, err := s.as(t, creds{}).ConfigMaps().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-public", Name: "cluster-info"})
	wantGRPC(t, err, codes.Unauthenticated, "Unauthorized")
	if r := s.do(t, "GET", "/healthz", nil); r.code != http.StatusOK {
		t.Fatalf("admin GET /healthz = %d %s", r.code, r.body)
	}
}
