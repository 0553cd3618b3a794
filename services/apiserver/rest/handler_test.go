package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"default","labels":{"app":"web"}},
"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}`

func podBody(name string) string { return strings.Replace(podJSON, "%s", name, 1) }

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (h *harness) do(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.http.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// get walks a decoded JSON document along a dotted path ("status.podIP", "items.0").
func get(m any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := m.(type) {
		case map[string]any:
			m = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			m = x[i]
		default:
			return nil
		}
	}
	return m
}

// TestREST runs one sequence of requests against the fake pods, in order.
func TestREST(t *testing.T) {
	h := newHarness(t)
	seed := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody("seed"))
	if seed.code != http.StatusCreated {
		t.Fatalf("seed create: %d %s", seed.code, seed.body)
	}
	seedRV := get(seed.json(t), "metadata.resourceVersion").(string)

	tests := []struct {
		name, method, path, body string
		header                   []string
		code                     int
		// want maps a dotted path of the JSON response to its expected value.
		want map[string]any
		// contains are substrings of the response's message.
		contains string
	}{
		{name: "create", method: "POST", path: "/api/v1/namespaces/default/pods", body: podBody("web"), code: 201,
			want: map[string]any{"kind": "Pod", "metadata.name": "web", "status.podIP": "10.244.0.5",
				"spec.containers.0.ports.0.containerPort": 80.0}},
		{name: "get", method: "GET", path: "/api/v1/namespaces/default/pods/web", code: 200,
			want: map[string]any{"metadata.labels.app": "web", "status.phase": "Pending", "status.podIP": "10.244.0.5"}},
		{name: "get without kubectl's accept", method: "GET", path: "/api/v1/namespaces/default/pods/web", code: 200,
			header: []string{"Accept", "*/*"}, want: map[string]any{"metadata.name": "web"}},
		{name: "list namespaced", method: "GET", path: "/api/v1/namespaces/default/pods?limit=500", code: 200,
			want: map[string]any{"kind": "PodList", "apiVersion": "v1", "items.1.kind": "Pod"}},
		{name: "list cluster-wide", method: "GET", path: "/api/v1/pods", code: 200,
			want: map[string]any{"kind": "PodList", "items.1.apiVersion": "v1"}},
		{name: "list by field selector", method: "GET", path: "/api/v1/pods?fieldSelector=metadata.name%3Dweb", code: 200,
			want: map[string]any{"items.0.metadata.name": "web", "items.1": nil}},
		{name: "already exists", method: "POST", path: "/api/v1/namespaces/default/pods", body: podBody("web"), code: 409,
			want: map[string]any{"reason": "AlreadyExists", "details.name": "web", "details.kind": "pods"}, contains: "already exists"},
		{name: "invalid", method: "POST", path: "/api/v1/namespaces/default/pods",
			body: `{"metadata":{"name":"bad"},"spec":{"containers":[]}}`, code: 422,
			want: map[string]any{"reason": "Invalid", "details.causes.0.field": "spec.containers"}, contains: "is invalid"},
		{name: "unknown field", method: "POST", path: "/api/v1/namespaces/default/pods",
			body: `{"metadata":{"name":"x"},"spec":{"containerz":[]}}`, code: 400,
			want: map[string]any{"reason": "BadRequest"}, contains: `unknown field "containerz"`},
		{name: "malformed json", method: "POST", path: "/api/v1/namespaces/default/pods",
			body: `{"metadata":`, code: 400, want: map[string]any{"reason": "BadRequest"}},
		{name: "not found", method: "GET", path: "/api/v1/namespaces/default/pods/nope", code: 404,
			want: map[string]any{"reason": "NotFound", "details.name": "nope"}, contains: `pods "nope" not found`},
		{name: "stale update", method: "PUT", path: "/api/v1/namespaces/default/pods/seed",
			body: strings.Replace(podBody("seed"), `"namespace"`, `"resourceVersion":"1","namespace"`, 1), code: 409,
			want: map[string]any{"reason": "Conflict"}, contains: "the object has been modified"},
		{name: "update", method: "PUT", path: "/api/v1/namespaces/default/pods/seed",
			body: strings.Replace(podBody("seed"), `"namespace"`, `"resourceVersion":"`+seedRV+`","namespace"`, 1), code: 200,
			want: map[string]any{"kind": "Pod", "metadata.uid": get(seed.json(t), "metadata.uid")}},
		{name: "delete as kubectl does", method: "DELETE", path: "/api/v1/namespaces/default/pods/web",
			body: `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}`, code: 200,
			want: map[string]any{"metadata.name": "web"}},
		{name: "delete without body", method: "DELETE", path: "/api/v1/namespaces/default/pods/seed", code: 200},
		{name: "deleted is gone", method: "GET", path: "/api/v1/namespaces/default/pods/web", code: 404},
		{name: "unknown path", method: "GET", path: "/api/v1/namespaces/default/widgets", code: 404,
			want: map[string]any{"reason": "NotFound"}, contains: "the server could not find the requested resource"},
		{name: "unknown group", method: "GET", path: "/apis/example.com/v1/things", code: 404},
		{name: "wrong method", method: "PUT", path: "/api/v1/namespaces/default/pods", body: "{}", code: 405,
			want: map[string]any{"reason": "MethodNotAllowed"}},
		{name: "no openapi", method: "GET", path: "/openapi/v2", code: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(t, tc.method, tc.path, tc.body, tc.header...)
			if r.code != tc.code {
				t.Fatalf("code = %d, want %d: %s", r.code, tc.code, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			m := r.json(t)
			if r.code >= 400 {
				for k, v := range map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": float64(tc.code)} {
					if m[k] != v {
						t.Errorf("Status %s = %v, want %v: %s", k, m[k], v, r.body)
					}
				}
				if _, ok := m["metadata"].(map[string]any); !ok {
					t.Errorf("Status has no metadata object: %s", r.body)
				}
			}
			for path, want := range tc.want {
				if got := get(m, path); got != want {
					t.Errorf("%s = %#v, want %#v: %s", path, got, want, r.body)
				}
			}
			if msg, _ := m["message"].(string); !strings.Contains(msg, tc.contains) {
				t.Errorf("message %q does not contain %q", msg, tc.contains)
			}
		})
	}
}

func TestListMetadata(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"a", "b"} {
		if r := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody(name)); r.code != 201 {
			t.Fatalf("create %s: %d %s", name, r.code, r.body)
		}
	}
	r := h.do(t, "GET", "/api/v1/namespaces/default/pods", "")
	var list struct {
		Kind, APIVersion string
		Metadata         struct{ ResourceVersion string }
		Items            []json.RawMessage
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("decode list: %v", err)
	}
	if list.Kind != "PodList" || list.APIVersion != "v1" || list.Metadata.ResourceVersion != "12" || len(list.Items) != 2 {
		t.Errorf("list = %+v (%d items), want PodList v1 at 12 with 2 items: %s", list, len(list.Items), r.body)
	}
	if strings.Contains(string(r.body), "pod_ip") || strings.Contains(string(r.body), `"nodeName"`) {
		t.Errorf("list uses proto names or emits unset fields: %s", r.body)
	}
}

func TestGatewaysCoverScheme(t *testing.T) {
	have := map[string]bool{}
	for _, g := range gateways {
		have[g.group+"/"+g.resource] = true
	}
	for _, k := range scheme.All() {
		if !have[k.Group+"/"+k.Resource] {
			t.Errorf("kind %s (%s) has no REST gateway in register.go", k.Kind, k.APIVersion())
		}
	}
	if len(gateways) != len(scheme.All()) {
		t.Errorf("%d gateways for %d kinds", len(gateways), len(scheme.All()))
	}
}
