package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
)

// metric sums the samples of name whose labels include every one of labels
// in the Prometheus text exposition at base/metrics; found says whether
// any sample matched.
func (s *server) metric(t *testing.T, base, name string, labels map[string]string) (sum float64, found bool) {
	t.Helper()
	resp, err := s.http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics = HTTP %d", base, resp.StatusCode)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		var lbls string
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.Index(rest, "}")
			lbls, rest = rest[1:end], rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // another metric sharing the prefix
		}
		match := true
		for k, v := range labels {
			if !strings.Contains(","+lbls+",", fmt.Sprintf(",%s=%q,", k, v)) {
				match = false
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
		found = true
	}
	return sum, found
}

// waitMetric polls until the metric satisfies cond, failing after a deadline.
func (s *server) waitMetric(t *testing.T, base, name string, labels map[string]string, what string, cond func(float64) bool) {
	t.Helper()
	var last float64
	if !poll(10*time.Second, func() bool {
		v, _ := s.metric(t, base, name, labels)
		last = v
		return cond(v)
	}) {
		t.Fatalf("%s%v = %v, want %s", name, labels, last, what)
	}
}

// TestMetrics checks that the apiserver's metrics move with the requests
// it serves, on the listen address and on the metrics address.
func TestMetrics(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	s := start(t, options{metricsAddress: metricsAddr, objectCountInterval: 100 * time.Millisecond})
	bases := []string{s.base, "http://" + metricsAddr}
	// The metrics listener starts with the server; wait until it answers.
	if !poll(10*time.Second, func() bool {
		resp, err := s.http.Get(bases[1] + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("metrics address %s does not answer /readyz", metricsAddr)
	}

	created := map[string]string{"grpc_service": "tugboat.core.v1.PodService", "grpc_method": "Create", "grpc_code": "OK"}
	notFound := map[string]string{"grpc_service": "tugboat.core.v1.PodService", "grpc_method": "Get", "grpc_code": "NotFound"}
	etcdCreate := map[string]string{"operation": "create", "resource": "pods"}
	handled := "tugboat_apiserver_grpc_server_handled_total"
	etcdCount := "tugboat_apiserver_etcd_request_duration_seconds_count"
	beforeCreated, _ := s.metric(t, s.base, handled, created)
	beforeNotFound, _ := s.metric(t, s.base, handled, notFound)
	beforeEtcd, _ := s.metric(t, s.base, etcdCount, etcdCreate)

	// One create over gRPC, one over REST, one failed get.
	if _, err := s.cs.Pods().Create(ctx(t), pod("default", "m1", nil)); err != nil {
		t.Fatal(err)
	}
	s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/default/pods", podJSON("m2", nil))
	_, err := s.cs.Pods().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "absent"})
	wantCode(t, err, codes.NotFound, "get of a missing pod")

	for i, base := range bases {
		t.Run([]string{"requests on the listen address", "requests on the metrics address"}[i], func(t *testing.T) {
			if v, _ := s.metric(t, base, handled, created); v != beforeCreated+2 {
				t.Fatalf("%s%v = %v, want %v", handled, created, v, beforeCreated+2)
			}
			if v, _ := s.metric(t, base, handled, notFound); v != beforeNotFound+1 {
				t.Fatalf("%s%v = %v, want %v", handled, notFound, v, beforeNotFound+1)
			}
			if v, _ := s.metric(t, base, etcdCount, etcdCreate); v != beforeEtcd+2 {
				t.Fatalf("%s%v = %v, want %v", etcdCount, etcdCreate, v, beforeEtcd+2)
			}
			if _, ok := s.metric(t, base, "tugboat_apiserver_etcd_request_duration_seconds_bucket", map[string]string{"operation": "get", "resource": "pods"}); !ok {
				t.Fatalf("no etcd latency histogram for pod gets")
			}
		})
	}

	t.Run("open watches", func(t *testing.T) {
		watches := map[string]string{"resource": "pods"}
		const name = "tugboat_apiserver_watches"
		// The node authoriser's pod cache holds one watch of its own.
		before, _ := s.metric(t, s.base, name, watches)
		c, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream, err := s.cs.Pods().Watch(c, &metav1.ListOptions{Namespace: "default", ResourceVersion: s.listRV(t, "default")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Header(); err != nil {
			t.Fatalf("watch not established: %v", err)
		}
		s.waitMetric(t, bases[1], name, watches, "one more while a watch is open", func(v float64) bool { return v == before+1 })
		rest := s.watchREST(t, "/api/v1/namespaces/default/pods?watch=true&resourceVersion="+s.listRV(t, "default"))
		if rest.code != http.StatusOK {
			t.Fatalf("REST watch = HTTP %d", rest.code)
		}
		s.waitMetric(t, s.base, name, watches, "two more with a REST watch open too", func(v float64) bool { return v == before+2 })
		cancel()
		rest.cancel()
		s.waitMetric(t, s.base, name, watches, "back to the start after the watches closed", func(v float64) bool { return v == before })
	})

	t.Run("stored objects", func(t *testing.T) {
		const name = "tugboat_apiserver_storage_objects"
		s.waitMetric(t, s.base, name, map[string]string{"resource": "pods"}, "2 pods", func(v float64) bool { return v == 2 })
		s.waitMetric(t, s.base, name, map[string]string{"resource": "namespaces"}, "the 4 system namespaces", func(v float64) bool { return v == 4 })
		s.must(t, http.StatusCreated, "POST", "/api/v1/namespaces/default/pods", podJSON("m3", nil))
		s.waitMetric(t, bases[1], name, map[string]string{"resource": "pods"}, "3 pods after another create", func(v float64) bool { return v == 3 })
	})
}
