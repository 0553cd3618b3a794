package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// obj is a JSON object as the REST API reads and writes it.
type obj = map[string]any

// response is one REST answer.
type response struct {
	code int
	body []byte
}

// object decodes the body as a JSON object.
func (r response) object(t *testing.T) obj {
	t.Helper()
	var o obj
	if err := json.Unmarshal(r.body, &o); err != nil {
		t.Fatalf("decode response (HTTP %d) %q: %v", r.code, r.body, err)
	}
	return o
}

// apiStatus is Kubernetes' Status as the REST API writes it.
type apiStatus struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	Reason     string `json:"reason"`
	Code       int    `json:"code"`
	Details    struct {
		Name   string `json:"name"`
		Kind   string `json:"kind"`
		Causes []struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"causes"`
	} `json:"details"`
}

// status decodes the body as a Status and checks its code matches HTTP's.
func (r response) status(t *testing.T) apiStatus {
	t.Helper()
	var st apiStatus
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("decode Status (HTTP %d) %q: %v", r.code, r.body, err)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Fatalf("error body is not a v1 Status: %s", r.body)
	}
	if st.Code != r.code {
		t.Fatalf("Status code %d differs from HTTP code %d: %s", st.Code, r.code, r.body)
	}
	return st
}

// fields lists the field paths a Status names in its causes.
func (st apiStatus) fields() []string {
	var out []string
	for _, c := range st.Details.Causes {
		out = append(out, c.Field)
	}
	return out
}

// do sends a REST request. body is a string or []byte sent as is, or a
// value marshalled to JSON; nil sends none.
func (s *server) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, s.base+path, rd)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return response{code: resp.StatusCode, body: data}
}

// must sends a request and fails the test unless the answer has code want.
func (s *server) must(t *testing.T, want int, method, path string, body any) obj {
	t.Helper()
	r := s.do(t, method, path, body)
	if r.code != want {
		t.Fatalf("%s %s = HTTP %d, want %d: %s", method, path, r.code, want, r.body)
	}
	return r.object(t)
}

// get reads a nested field of a JSON object: get(o, "metadata", "name").
func get(o obj, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// str reads a nested string field ("" when absent).
func str(o obj, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

// names returns the metadata.name of each item of a list, sorted.
func names(list obj) []string {
	items, _ := list["items"].([]any)
	out := []string{}
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, str(m, "metadata", "name"))
		}
	}
	slices.Sort(out)
	return out
}

// podJSON is a minimal valid pod.
func podJSON(name string, labels map[string]string) obj {
	meta := obj{"name": name}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	return obj{
		"apiVersion": "v1", "kind": "Pod", "metadata": meta,
		"spec": obj{"containers": []any{obj{"name": "app", "image": "registry.local/app:1"}}},
	}
}

// deploymentJSON is a minimal valid deployment.
func deploymentJSON(name string, replicas int) obj {
	labels := obj{"app": name}
	return obj{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": obj{"name": name},
		"spec": obj{
			"replicas": replicas,
			"selector": obj{"matchLabels": labels},
			"template": obj{
				"metadata": obj{"labels": labels},
				"spec":     obj{"containers": []any{obj{"name": "app", "image": "registry.local/app:1"}}},
			},
		},
	}
}

// jobJSON is a minimal valid job.
func jobJSON(name string) obj {
	return obj{
		"apiVersion": "batch/v1", "kind": "Job", "metadata": obj{"name": name},
		"spec": obj{"template": obj{"spec": obj{
			"restartPolicy": "Never",
			"containers":    []any{obj{"name": "work", "image": "registry.local/work:1"}},
		}}},
	}
}

// pod is a minimal valid pod for the gRPC API.
func pod(namespace, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "registry.local/app:1"}}},
	}
}

// wantCode fails the test unless err is a gRPC status with code want.
func wantCode(t *testing.T, err error, want codes.Code, what string) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("%s: code %v (%v), want %v", what, got, err, want)
	}
}

// createNamespace creates a namespace through REST.
func (s *server) createNamespace(t *testing.T, name string) {
	t.Helper()
	s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces", obj{"apiVersion": "v1", "kind": "Namespace", "metadata": obj{"name": name}})
}

// event is one watch event as the REST API streams it.
type event struct {
	Type   string `json:"type"`
	Object obj    `json:"object"`
}

// restWatch is an open REST watch: one JSON event per line.
type restWatch struct {
	code   int
	events chan event
	errs   chan error
	cancel context.CancelFunc
}

// watchREST opens GET path (which carries ?watch=true) and streams its lines.
func (s *server) watchREST(t *testing.T, path string) *restWatch {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(c, "GET", s.base+path, nil)
	if err != nil {
		cancel()
		t.Fatalf("build watch %s: %v", path, err)
	}
	resp, err := (&http.Client{Transport: s.http.Transport}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("watch %s: %v", path, err)
	}
	w := &restWatch{code: resp.StatusCode, events: make(chan event, 100), errs: make(chan error, 1), cancel: cancel}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	go func() {
		defer close(w.events)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				var ev event
				if jerr := json.Unmarshal(line, &ev); jerr != nil {
					w.errs <- fmt.Errorf("watch line %q is not one JSON event: %v", line, jerr)
					return
				}
				w.events <- ev
			}
			if err != nil {
				return
			}
		}
	}()
	return w
}

// next returns the next event, failing the test after timeout.
func (w *restWatch) next(t *testing.T, timeout time.Duration) event {
	t.Helper()
	select {
	case ev, ok := <-w.events:
		if !ok {
			select {
			case err := <-w.errs:
				t.Fatalf("watch stream: %v", err)
			default:
			}
			t.Fatalf("watch stream ended while an event was expected")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no watch event within %v", timeout)
	}
	return event{}
}
