package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TestListPaging pages through a collection with limit and continue while
// objects are created between pages: every object that existed at the
// first page comes exactly once, none created later, and every page
// reports the first page's resourceVersion.
func TestListPaging(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "paging")
	const total, limit = 23, 5
	var want []string
	for i := range total {
		name := fmt.Sprintf("p-%02d", i)
		want = append(want, name)
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/paging/pods", podJSON(name, nil))
	}

	t.Run("REST", func(t *testing.T) {
		var seen []string
		rv, cont := "", ""
		for page := 0; ; page++ {
			q := url.Values{"limit": {fmt.Sprint(limit)}}
			if cont != "" {
				q.Set("continue", cont)
			}
			list := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/paging/pods?"+q.Encode(), nil)
			items := names(list)
			if len(items) > limit {
				t.Fatalf("page %d has %d items, limit %d", page, len(items), limit)
			}
			seen = append(seen, items...)
			pageRV := str(list, "metadata", "resourceVersion")
			if rv == "" {
				rv = pageRV
			} else if pageRV != rv {
				t.Fatalf("page %d has resourceVersion %s, the first had %s", page, pageRV, rv)
			}
			// A new object sorting after every existing one: a list that is
			// not one snapshot would show it on a later page.
			s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/paging/pods", podJSON(fmt.Sprintf("z-rest-%02d", page), nil))
			if cont = str(list, "metadata", "continue"); cont == "" {
				break
			}
		}
		slices.Sort(seen)
		if !slices.Equal(seen, want) {
			t.Fatalf("pages held %v, want each of %v exactly once", seen, want)
		}
	})

	t.Run("gRPC", func(t *testing.T) {
		before := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/paging/pods", nil)
		wantNow := names(before)
		var seen []string
		rv, cont := "", ""
		for page := 0; ; page++ {
			list, err := s.cs.Pods().List(ctx(t), &metav1.ListOptions{Namespace: "paging", Limit: limit, Continue: cont})
			if err != nil {
				t.Fatalf("list page %d: %v", page, err)
			}
			for _, p := range list.GetItems() {
				seen = append(seen, p.GetMetadata().GetName())
			}
			if rv == "" {
				rv = list.GetMetadata().GetResourceVersion()
			} else if got := list.GetMetadata().GetResourceVersion(); got != rv {
				t.Fatalf("page %d has resourceVersion %s, the first had %s", page, got, rv)
			}
			if _, err := s.cs.Pods().Create(ctx(t), pod("paging", fmt.Sprintf("z-grpc-%02d", page), nil)); err != nil {
				t.Fatalf("create between pages: %v", err)
			}
			if cont = list.GetMetadata().GetContinue(); cont == "" {
				break
			}
		}
		slices.Sort(seen)
		if !slices.Equal(seen, wantNow) {
			t.Fatalf("pages held %v, want each of %v exactly once", seen, wantNow)
		}
	})
}

// TestListSelectors filters lists with every label selector operator and
// the supported field selectors.
func TestListSelectors(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.createNamespace(t, "sel")
	s.createNamespace(t, "sel-other")
	pods := []struct {
		name, node string
		labels     map[string]string
	}{
		{"fe", "node-1", map[string]string{"app": "web", "tier": "frontend"}},
		{"be", "node-2", map[string]string{"app": "web", "tier": "backend"}},
		{"db", "node-1", map[string]string{"app": "db"}},
		{"plain", "", nil},
	}
	for _, p := range pods {
		body := podJSON(p.name, p.labels)
		if p.node != "" {
			body["spec"].(obj)["nodeName"] = p.node
		}
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/sel/pods", body)
	}
	s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/sel-other/pods", podJSON("elsewhere", map[string]string{"app": "web"}))
	// One pod runs: its status says so.
	running := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/sel/pods/db", nil)
	running["status"] = obj{"phase": "Running"}
	s.must(t, http.StatusOK, "PUT", "/api/v1/namespaces/sel/pods/db/status", running)

	tests := []struct {
		name, path, param, selector string
		want                        []string
	}{
		{"label =", "/api/v1/namespaces/sel/pods", "labelSelector", "app=web", []string{"be", "fe"}},
		{"label ==", "/api/v1/namespaces/sel/pods", "labelSelector", "app==web", []string{"be", "fe"}},
		{"label !=", "/api/v1/namespaces/sel/pods", "labelSelector", "app!=web", []string{"db", "plain"}},
		{"label in", "/api/v1/namespaces/sel/pods", "labelSelector", "tier in (frontend,backend)", []string{"be", "fe"}},
		{"label notin", "/api/v1/namespaces/sel/pods", "labelSelector", "tier notin (frontend)", []string{"be", "db", "plain"}},
		{"label exists", "/api/v1/namespaces/sel/pods", "labelSelector", "tier", []string{"be", "fe"}},
		{"label does not exist", "/api/v1/namespaces/sel/pods", "labelSelector", "!tier", []string{"db", "plain"}},
		{"labels combined", "/api/v1/namespaces/sel/pods", "labelSelector", "app=web,tier!=backend", []string{"fe"}},
		{"field metadata.name", "/api/v1/namespaces/sel/pods", "fieldSelector", "metadata.name=db", []string{"db"}},
		{"field metadata.namespace", "/api/v1/pods", "fieldSelector", "metadata.namespace=sel-other", []string{"elsewhere"}},
		{"field spec.nodeName", "/api/v1/namespaces/sel/pods", "fieldSelector", "spec.nodeName=node-1", []string{"db", "fe"}},
		{"field spec.nodeName unscheduled", "/api/v1/namespaces/sel/pods", "fieldSelector", "spec.nodeName=", []string{"plain"}},
		{"field status.phase", "/api/v1/namespaces/sel/pods", "fieldSelector", "status.phase=Running", []string{"db"}},
		{"field status.phase !=", "/api/v1/namespaces/sel/pods", "fieldSelector", "status.phase!=Running", []string{"be", "fe", "plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{tt.param: {tt.selector}}
			list := s.must(t, http.StatusOK, "GET", tt.path+"?"+q.Encode(), nil)
			if got := names(list); !slices.Equal(got, tt.want) {
				t.Fatalf("REST %s=%q selected %v, want %v", tt.param, tt.selector, got, tt.want)
			}
			opts := &metav1.ListOptions{Namespace: "sel"}
			if tt.path == "/api/v1/pods" {
				opts.Namespace = ""
			}
			if tt.param == "labelSelector" {
				opts.LabelSelector = tt.selector
			} else {
				opts.FieldSelector = tt.selector
			}
			glist, err := s.cs.Pods().List(ctx(t), opts)
			if err != nil {
				t.Fatalf("gRPC list: %v", err)
			}
			if got := podNames(glist.GetItems()); !slices.Equal(got, tt.want) {
				t.Fatalf("gRPC %s=%q selected %v, want %v", tt.param, tt.selector, got, tt.want)
			}
		})
	}

	t.Run("bad selectors are 400", func(t *testing.T) {
		for _, q := range []string{"labelSelector=app%20in%20(", "fieldSelector=spec.image%3Dx"} {
			r := s.do(t, "GET", "/api/v1/namespaces/sel/pods?"+q, nil)
			if r.code != http.StatusBadRequest || r.status(t).Reason != "BadRequest" {
				t.Fatalf("GET ?%s = HTTP %d %s, want 400 BadRequest", q, r.code, r.body)
			}
		}
	})
}

func podNames(items []*corev1.Pod) []string {
	out := []string{}
	for _, p := range items {
		out = append(out, p.GetMetadata().GetName())
	}
	slices.Sort(out)
	return out
}
