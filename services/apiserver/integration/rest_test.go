package integration

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRESTCRUD runs create, get, list, update and delete on Kubernetes' own
// paths for a core, an apps and a batch kind, with Kubernetes' codes and
// Status bodies for the failures along the way.
func TestRESTCRUD(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	kinds := []struct {
		name       string
		collection string
		kind       string
		apiVersion string
		object     obj
		change     func(o obj) // a spec or metadata change for the update
	}{
		{
			name: "pods", collection: "/api/v1/namespaces/default/pods", kind: "Pod", apiVersion: "v1",
			object: podJSON("crud-pod", map[string]string{"app": "web"}),
			change: func(o obj) { o["metadata"].(obj)["labels"] = map[string]any{"app": "web", "rev": "2"} },
		},
		{
			name: "deployments", collection: "/apis/apps/v1/namespaces/default/deployments", kind: "Deployment", apiVersion: "apps/v1",
			object: deploymentJSON("crud-deploy", 1),
			change: func(o obj) { o["spec"].(obj)["replicas"] = 3 },
		},
		{
			name: "jobs", collection: "/apis/batch/v1/namespaces/default/jobs", kind: "Job", apiVersion: "batch/v1",
			object: jobJSON("crud-job"),
			change: func(o obj) { o["metadata"].(obj)["labels"] = map[string]any{"rev": "2"} },
		},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			name := str(k.object, "metadata", "name")
			item := k.collection + "/" + name

			created := s.must(t, http.StatusCreated, "POST", k.collection, k.object)
			if str(created, "kind") != k.kind || str(created, "apiVersion") != k.apiVersion {
				t.Fatalf("created object has kind %q apiVersion %q, want %q %q", str(created, "kind"), str(created, "apiVersion"), k.kind, k.apiVersion)
			}
			uid, rv := str(created, "metadata", "uid"), str(created, "metadata", "resourceVersion")
			if uid == "" || rv == "" || str(created, "metadata", "namespace") != "default" {
				t.Fatalf("created object lacks uid, resourceVersion or namespace: %v", created["metadata"])
			}

			got := s.must(t, http.StatusOK, "GET", item, nil)
			if str(got, "metadata", "uid") != uid || str(got, "metadata", "resourceVersion") != rv {
				t.Fatalf("GET returned uid %q rv %q, want %q %q", str(got, "metadata", "uid"), str(got, "metadata", "resourceVersion"), uid, rv)
			}

			list := s.must(t, http.StatusOK, "GET", k.collection, nil)
			if str(list, "kind") != k.kind+"List" || str(list, "apiVersion") != k.apiVersion {
				t.Fatalf("list has kind %q apiVersion %q, want %q %q", str(list, "kind"), str(list, "apiVersion"), k.kind+"List", k.apiVersion)
			}
			if str(list, "metadata", "resourceVersion") == "" {
				t.Fatalf("list has no metadata.resourceVersion: %v", list["metadata"])
			}
			if _, ok := list["items"].([]any); !ok || !slices.Contains(names(list), name) {
				t.Fatalf("list items %v do not hold %q", names(list), name)
			}

			dup := s.do(t, "POST", k.collection, k.object)
			if dup.code != http.StatusConflict || dup.status(t).Reason != "AlreadyExists" {
				t.Fatalf("second create = HTTP %d %s, want 409 AlreadyExists", dup.code, dup.body)
			}

			k.change(got)
			updated := s.must(t, http.StatusOK, "PUT", item, got)
			newRV := str(updated, "metadata", "resourceVersion")
			if newRV == rv || str(updated, "metadata", "uid") != uid {
				t.Fatalf("update kept resourceVersion %q or changed uid to %q", newRV, str(updated, "metadata", "uid"))
			}

			// got still carries the old resourceVersion: a stale write.
			stale := s.do(t, "PUT", item, got)
			if stale.code != http.StatusConflict || stale.status(t).Reason != "Conflict" {
				t.Fatalf("update with stale resourceVersion = HTTP %d %s, want 409 Conflict", stale.code, stale.body)
			}
			after := s.must(t, http.StatusOK, "GET", item, nil)
			if str(after, "metadata", "resourceVersion") != newRV {
				t.Fatalf("stale update changed the object: rv %q, want %q", str(after, "metadata", "resourceVersion"), newRV)
			}

			s.must(t, http.StatusOK, "DELETE", item, nil)
			gone := s.do(t, "GET", item, nil)
			st := gone.status(t)
			if gone.code != http.StatusNotFound || st.Reason != "NotFound" || st.Details.Name != name {
				t.Fatalf("GET after delete = HTTP %d %s, want 404 NotFound naming %q", gone.code, gone.body, name)
			}
		})
	}
}

// TestRESTErrors checks the codes and Status bodies of the common failures.
func TestRESTErrors(t *testing.T) {
	t.Parallel()
	s := start(t, options{})

	t.Run("unknown object is 404 NotFound", func(t *testing.T) {
		r := s.do(t, "GET", "/api/v1/namespaces/default/pods/no-such-pod", nil)
		st := r.status(t)
		if r.code != http.StatusNotFound || st.Reason != "NotFound" || st.Status != "Failure" || !strings.Contains(st.Message, "no-such-pod") {
			t.Fatalf("GET missing pod = HTTP %d %s", r.code, r.body)
		}
	})

	t.Run("invalid object is 422 Invalid naming the field", func(t *testing.T) {
		p := podJSON("no-image", nil)
		p["spec"].(obj)["containers"].([]any)[0].(obj)["image"] = ""
		r := s.do(t, "POST", "/api/v1/namespaces/default/pods", p)
		st := r.status(t)
		field := "spec.containers[0].image"
		if r.code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || !strings.Contains(st.Message, field) || !slices.Contains(st.fields(), field) {
			t.Fatalf("create without image = HTTP %d %s, want 422 Invalid naming %s", r.code, r.body, field)
		}
		if r := s.do(t, "GET", "/api/v1/namespaces/default/pods/no-image", nil); r.code != http.StatusNotFound {
			t.Fatalf("invalid pod was stored: GET = HTTP %d", r.code)
		}
	})

	t.Run("unknown path is 404", func(t *testing.T) {
		r := s.do(t, "GET", "/api/v1/namespaces/default/widgets", nil)
		if r.code != http.StatusNotFound || r.status(t).Reason != "NotFound" {
			t.Fatalf("GET unknown resource = HTTP %d %s", r.code, r.body)
		}
	})
}

// TestDiscovery reads the discovery documents kubectl starts from.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	tests := []struct {
		path  string
		check func(t *testing.T, doc obj)
	}{
		{"/api", func(t *testing.T, doc obj) {
			if str(doc, "kind") != "APIVersions" || !slices.Contains(doc["versions"].([]any), any("v1")) {
				t.Fatalf("/api = %v", doc)
			}
		}},
		{"/api/v1", func(t *testing.T, doc obj) {
			res := resources(doc)
			if str(doc, "kind") != "APIResourceList" || str(doc, "groupVersion") != "v1" || res["pods"] != "Pod" || res["namespaces"] != "Namespace" {
				t.Fatalf("/api/v1 = %v", doc)
			}
			if _, ok := res["pods/binding"]; !ok {
				t.Fatalf("/api/v1 lacks pods/binding: %v", res)
			}
		}},
		{"/apis", func(t *testing.T, doc obj) {
			var groups []string
			for _, g := range doc["groups"].([]any) {
				groups = append(groups, str(g.(obj), "name"))
			}
			if str(doc, "kind") != "APIGroupList" || !slices.Contains(groups, "apps") || !slices.Contains(groups, "batch") {
				t.Fatalf("/apis groups = %v in %v", groups, doc)
			}
		}},
		{"/apis/apps/v1", func(t *testing.T, doc obj) {
			res := resources(doc)
			if str(doc, "kind") != "APIResourceList" || str(doc, "groupVersion") != "apps/v1" || res["deployments"] != "Deployment" || res["replicasets"] != "ReplicaSet" {
				t.Fatalf("/apis/apps/v1 = %v", doc)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			tt.check(t, s.must(t, http.StatusOK, "GET", tt.path, nil))
		})
	}
}

// resources maps an APIResourceList's resource names to their kinds.
func resources(doc obj) map[string]string {
	out := map[string]string{}
	list, _ := doc["resources"].([]any)
	for _, r := range list {
		m := r.(obj)
		out[str(m, "name")] = str(m, "kind")
	}
	return out
}
