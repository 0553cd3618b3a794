package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

type event struct {
	Type   string         `json:"type"`
	Object map[string]any `json:"object"`
}

// openWatch starts a streaming GET and returns its status, its header and
// its lines, each a decoded event, as they arrive.
func (h *harness) openWatch(t *testing.T, path string) (*http.Response, <-chan event) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", h.http.URL+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("watch %s: %v", path, err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	events := make(chan event, 10)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = event{Type: "UNDECODABLE: " + sc.Text()}
			}
			events <- ev
		}
	}()
	return resp, events
}

func nextEvent(t *testing.T, events <-chan event) event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("watch stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return event{}
}

func TestWatchStreamsEvents(t *testing.T) {
	tests := []struct{ name, path string }{
		{"namespaced watch=true", "/api/v1/namespaces/default/pods?watch=true"},
		{"namespaced watch=1", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=10"},
		{"cluster-wide", "/api/v1/pods?watch=true&allowWatchBookmarks=true"},
		{"legacy path", "/api/v1/watch/namespaces/default/pods"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			resp, events := h.openWatch(t, tc.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("watch answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			// The stream is open (headers arrived) before any event exists.
			for i, name := range []string{"one", "two"} {
				if r := h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody(name)); r.code != 201 {
					t.Fatalf("create: %d %s", r.code, r.body)
				}
				ev := nextEvent(t, events)
				if ev.Type != "ADDED" || get(ev.Object, "metadata.name") != name || get(ev.Object, "kind") != "Pod" {
					t.Fatalf("event %d = %+v, want ADDED %s", i, ev, name)
				}
				if _, wrapped := ev.Object["result"]; wrapped {
					t.Fatalf("event still wrapped: %+v", ev)
				}
			}
			h.do(t, "DELETE", "/api/v1/namespaces/default/pods/one", "")
			if ev := nextEvent(t, events); ev.Type != "DELETED" || get(ev.Object, "metadata.name") != "one" {
				t.Fatalf("event = %+v, want DELETED one", ev)
			}
		})
	}
}

func TestWatchOneObject(t *testing.T) {
	h := newHarness(t)
	_, events := h.openWatch(t, "/api/v1/namespaces/default/pods/two?watch=true")
	for _, name := range []string{"one", "two"} {
		h.do(t, "POST", "/api/v1/namespaces/default/pods", podBody(name))
	}
	if ev := nextEvent(t, events); get(ev.Object, "metadata.name") != "two" {
		t.Fatalf("event = %+v, want only pod two", ev)
	}
}

func TestWatchOtherGroup(t *testing.T) {
	h := newHarness(t)
	_, events := h.openWatch(t, "/apis/apps/v1/namespaces/x/deployments?watch=true")
	ev := nextEvent(t, events)
	if ev.Type != "ADDED" || get(ev.Object, "metadata.namespace") != "x" || get(ev.Object, "kind") != "Deployment" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestWatchGone(t *testing.T) {
	h := newHarness(t)
	resp, events := h.openWatch(t, "/api/v1/namespaces/default/pods?watch=true&resourceVersion=1")
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 with an ERROR event", resp.StatusCode)
	}
	ev := nextEvent(t, events)
	if ev.Type != "ERROR" {
		t.Fatalf("event = %+v, want ERROR", ev)
	}
	for k, v := range map[string]any{"kind": "Status", "status": "Failure", "reason": "Expired", "code": 410.0} {
		if ev.Object[k] != v {
			t.Errorf("ERROR object %s = %v, want %v (%+v)", k, ev.Object[k], v, ev.Object)
		}
	}
	if _, ok := <-events; ok {
		t.Error("stream continued after the ERROR event")
	}
}

func TestWatchRequestRewrite(t *testing.T) {
	tests := []struct {
		in, path, fieldSelector string
		rewritten               bool
	}{
		{in: "/api/v1/namespaces/default/pods?watch=true", path: "/api/v1/watch/namespaces/default/pods", rewritten: true},
		{in: "/api/v1/pods?watch=1", path: "/api/v1/watch/pods", rewritten: true},
		{in: "/apis/apps/v1/namespaces/x/deployments?watch=true", path: "/apis/apps/v1/watch/namespaces/x/deployments", rewritten: true},
		{in: "/api/v1/namespaces/default/pods/x?watch=true", path: "/api/v1/watch/namespaces/default/pods",
			fieldSelector: "metadata.name=x", rewritten: true},
		{in: "/api/v1/nodes/n1?watch=true&fieldSelector=a%3Db", path: "/api/v1/watch/nodes",
			fieldSelector: "a=b,metadata.name=n1", rewritten: true},
		{in: "/api/v1/namespaces/kube-system?watch=true", path: "/api/v1/watch/namespaces",
			fieldSelector: "metadata.name=kube-system", rewritten: true},
		{in: "/api/v1/namespaces/default/pods?watch=false"},
		{in: "/api/v1/namespaces/default/pods"},
		{in: "/api/v1/watch/pods?watch=true"},
		{in: "/api/v1?watch=true"},
		{in: "/api/v1/namespaces/default/pods/x/status?watch=true"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := url.Parse("http://h" + tc.in)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := watchRequest(&http.Request{Method: "GET", URL: u, Header: http.Header{}})
			if ok != tc.rewritten {
				t.Fatalf("rewritten = %v, want %v", ok, tc.rewritten)
			}
			if !ok {
				return
			}
			if r.URL.Path != tc.path || r.URL.Query().Get("fieldSelector") != tc.fieldSelector {
				t.Errorf("rewritten to %s ?fieldSelector=%q, want %s %q", r.URL.Path, r.URL.Query().Get("fieldSelector"), tc.path, tc.fieldSelector)
			}
		})
	}
}
