package rest

import (
	"net/http"
	"strings"
	"testing"
)

func TestPatch(t *testing.T) {
	h := newHarness(t)
	if r := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody("web")); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	const path = "/api/v1/namespaces/default/pods/web"
	tests := []struct {
		name, contentType, patch, path string
		conflicts                      int
		code                           int
		want                           map[string]any
	}{
		{name: "merge patch", contentType: "application/merge-patch+json",
			patch: `{"metadata":{"labels":{"tier":"front"}}}`, code: 200,
			want: map[string]any{"metadata.labels.tier": "front", "metadata.labels.app": "web", "spec.containers.0.image": "nginx"}},
		{name: "merge patch removes", contentType: "application/merge-patch+json",
			patch: `{"metadata":{"labels":{"tier":null}}}`, code: 200,
			want: map[string]any{"metadata.labels.tier": nil, "metadata.labels.app": "web"}},
		{name: "strategic merge patch with directives", contentType: "application/strategic-merge-patch+json",
			patch: `{"metadata":{"labels":{"a":"b"}},"spec":{"$setElementOrder/containers":[{"name":"web"}]}}`, code: 200,
			want: map[string]any{"metadata.labels.a": "b", "spec.containers.0.name": "web"}},
		{name: "json patch", contentType: "application/json-patch+json",
			patch: `[{"op":"replace","path":"/spec/containers/0/image","value":"nginx:2"}]`, code: 200,
			want: map[string]any{"spec.containers.0.image": "nginx:2"}},
		{name: "retried after a lost race", contentType: "application/merge-patch+json", conflicts: 2,
			patch: `{"metadata":{"labels":{"retried":"yes"}}}`, code: 200,
			want: map[string]any{"metadata.labels.retried": "yes"}},
		{name: "pinned stale resourceVersion", contentType: "application/merge-patch+json",
			patch: `{"metadata":{"resourceVersion":"3","labels":{"x":"y"}}}`, code: 409,
			want: map[string]any{"reason": "Conflict"}},
		{name: "failed json patch test", contentType: "application/json-patch+json",
			patch: `[{"op":"test","path":"/metadata/name","value":"other"}]`, code: 422},
		{name: "malformed patch", contentType: "application/merge-patch+json", patch: `{"metadata":`, code: 422},
		{name: "patch makes unknown field", contentType: "application/merge-patch+json",
			patch: `{"spec":{"bogus":1}}`, code: 400, want: map[string]any{"reason": "BadRequest"}},
		{name: "apply patch unsupported", contentType: "application/apply-patch+yaml", patch: `{}`, code: 415},
		{name: "not found", contentType: "application/merge-patch+json", patch: `{}`,
			path: "/api/v1/namespaces/default/pods/nope", code: 404, want: map[string]any{"reason": "NotFound"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.pods.mu.Lock()
			h.pods.conflicts = tc.conflicts
			h.pods.mu.Unlock()
			p := path
			if tc.path != "" {
				p = tc.path
			}
			r := h.do(t, "PATCH", p, tc.patch, "Content-Type", tc.contentType)
			if r.code != tc.code {
				t.Fatalf("code = %d, want %d: %s", r.code, tc.code, r.body)
			}
			m := r.json(t)
			if r.code >= 400 && (m["kind"] != "Status" || m["code"] != float64(tc.code)) {
				t.Errorf("not a Status with code %d: %s", tc.code, r.body)
			}
			for k, want := range tc.want {
				if got := get(m, k); got != want {
					t.Errorf("%s = %#v, want %#v: %s", k, got, want, r.body)
				}
			}
		})
	}
	if r := h.do(t, "GET", path, ""); !strings.Contains(string(r.body), `"retried":"yes"`) || r.code != http.StatusOK {
		t.Errorf("patched object not stored: %s", r.body)
	}
}
