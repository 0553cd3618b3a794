package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
)

// TestScaleSubresource reads and sets replicas through deployments/scale
// and replicasets/scale over REST and gRPC, and refuses a negative count
// and a stale resourceVersion without changing anything.
func TestScaleSubresource(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.must(t, http.StatusCreated, "POST", "/apis/apps/v1/namespaces/default/deployments", deploymentJSON("web", 3))
	rs := deploymentJSON("front", 2)
	rs["kind"] = "ReplicaSet"
	s.must(t, http.StatusCreated, "POST", "/apis/apps/v1/namespaces/default/replicasets", rs)

	for _, res := range []string{"deployments/web", "replicasets/front"} {
		path := "/apis/apps/v1/namespaces/default/" + res + "/scale"
		t.Run("REST "+res, func(t *testing.T) {
			got := s.must(t, http.StatusOK, "GET", path, nil)
			if str(got, "kind") != "Scale" || str(got, "apiVersion") != "autoscaling/v1" || str(got, "status", "selector") == "" {
				t.Fatalf("GET %s = %v, want an autoscaling/v1 Scale with a selector", path, got)
			}
			name := str(got, "metadata", "name")
			put := obj{"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": obj{"name": name, "namespace": "default"}, "spec": obj{"replicas": 5}}
			after := s.must(t, http.StatusOK, "PUT", path, put)
			if get(after, "spec", "replicas") != float64(5) {
				t.Fatalf("PUT %s answered %v, want spec.replicas 5", path, after)
			}
			cur := s.must(t, http.StatusOK, "GET", "/apis/apps/v1/namespaces/default/"+res, nil)
			if get(cur, "spec", "replicas") != float64(5) {
				t.Fatalf("%s spec.replicas = %v after scaling to 5", res, get(cur, "spec", "replicas"))
			}

			// kubectl scale sends a merge patch to the subresource.
			patch := s.doPatch(t, path, `{"spec":{"replicas":4}}`)
			if patch.code != http.StatusOK || get(patch.object(t), "spec", "replicas") != float64(4) {
				t.Fatalf("PATCH %s = HTTP %d %s, want 200 with 4 replicas", path, patch.code, patch.body)
			}
			put["spec"] = obj{"replicas": -1}
			r := s.do(t, "PUT", path, put)
			if st := r.status(t); r.code != http.StatusUnprocessableEntity || len(st.fields()) != 1 || st.fields()[0] != "spec.replicas" {
				t.Fatalf("scale to -1 = HTTP %d %s, want 422 naming spec.replicas", r.code, r.body)
			}
			put["spec"] = obj{"replicas": 1}
			put["metadata"] = obj{"name": name, "namespace": "default", "resourceVersion": "1"}
			if r := s.do(t, "PUT", path, put); r.code != http.StatusConflict {
				t.Fatalf("scale with a stale resourceVersion = HTTP %d %s, want 409", r.code, r.body)
			}
			cur = s.must(t, http.StatusOK, "GET", "/apis/apps/v1/namespaces/default/"+res, nil)
			if get(cur, "spec", "replicas") != float64(4) {
				t.Fatalf("%s spec.replicas = %v after refused scales, want 4 unchanged", res, get(cur, "spec", "replicas"))
			}
		})
	}

	t.Run("gRPC", func(t *testing.T) {
		sc, err := s.cs.Deployments().UpdateScale(ctx(t), &appsv1.Scale{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"},
			Spec:     &appsv1.ScaleSpec{Replicas: 2},
		})
		if err != nil || sc.GetSpec().GetReplicas() != 2 {
			t.Fatalf("UpdateScale to 2 = %v, %v", sc, err)
		}
		got, err := s.cs.ReplicaSets().GetScale(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "front"})
		if err != nil || got.GetSpec().GetReplicas() != 4 || got.GetStatus().GetSelector() != "app=front" {
			t.Fatalf("GetScale front = %v, %v; want replicas 4, selector app=front", got, err)
		}
		_, err = s.cs.ReplicaSets().GetScale(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "missing"})
		wantCode(t, err, codes.NotFound, "GetScale of a missing replicaset")
		_, err = s.cs.Deployments().UpdateScale(ctx(t), &appsv1.Scale{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: &appsv1.ScaleSpec{Replicas: -3},
		})
		wantCode(t, err, codes.InvalidArgument, "UpdateScale to -3")
	})
}

// doPatch sends a JSON merge patch.
func (s *server) doPatch(t *testing.T, path, patch string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPatch, s.base+path, strings.NewReader(patch))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("PATCH %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, body: data}
}
