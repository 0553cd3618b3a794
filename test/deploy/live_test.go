//go:build deploy

package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestClusterDNS asks the compose cluster's tug-dns at $TUGBOAT_DNS_ADDRESS
// (the pod bridge's address, made by the test's kubelet) for the Service it
// publishes, kube-system/kube-dns, for a name that does not exist, and for a
// name outside the cluster, which it forwards to the upstream it was given,
// $TUGBOAT_DNS_UPSTREAM: a resolver this test runs on loopback. This also
// gives the DNS dashboard's metrics their first series.
func TestClusterDNS(t *testing.T) {
	addr := os.Getenv("TUGBOAT_DNS_ADDRESS")
	if addr == "" {
		t.Fatal("TUGBOAT_DNS_ADDRESS is empty: give tug-dns's IP:port")
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ips, err := r.LookupHost(ctx, "kube-dns.kube-system.svc.cluster.local")
		cancel()
		if err == nil && len(ips) == 1 && ips[0] == "10.96.0.10" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-dns.kube-system.svc.cluster.local at %s: %v %v, want 10.96.0.10", addr, ips, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := r.LookupHost(ctx, "no-such-service.default.svc.cluster.local")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("no-such-service.default.svc.cluster.local: %v, want not found (NXDOMAIN)", err)
	}

	upstream := os.Getenv("TUGBOAT_DNS_UPSTREAM")
	if upstream == "" {
		t.Fatal("TUGBOAT_DNS_UPSTREAM is empty: give the loopback address tug-dns forwards to")
	}
	var asked atomic.Int32
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		asked.Add(1)
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Name == "outside.example." && q.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "outside.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 7)})
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{Addr: upstream, Net: "udp", Handler: handler}
	started := make(chan error, 1)
	srv.NotifyStartedFunc = func() { started <- nil }
	go func() { started <- srv.ListenAndServe() }()
	if err := <-started; err != nil {
		t.Fatalf("upstream resolver on %s: %v", upstream, err)
	}
	defer srv.Shutdown()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	ips, err := r.LookupIPAddr(ctx2, "outside.example")
	if err != nil || len(ips) == 0 || ips[0].IP.String() != "192.0.2.7" {
		t.Fatalf("outside.example through tug-dns: %v %v, want 192.0.2.7 from the upstream", ips, err)
	}
	if asked.Load() == 0 {
		t.Fatal("the upstream was never asked")
	}
}

// scrape returns the metric names url exports, with the _bucket, _sum and
// _count series of histograms and summaries (and _total of counters, as
// exposed) that PromQL reads.
func scrape(ctx context.Context, url string) (map[string]bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	names := map[string]bool{}
	for name, f := range fams {
		if len(f.GetMetric()) == 0 {
			continue // declared, no series yet: a query would find nothing
		}
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names, nil
}

// TestDashboardMetricsLive checks that every metric a dashboard queries is
// exported by a running cluster: $TUGBOAT_METRICS_URLS lists the /metrics
// URLs of every component (hack/test-deploy.sh sets it for the compose
// cluster). up is Prometheus's own series, checked by the script's
// targets-up wait.
func TestDashboardMetricsLive(t *testing.T) {
	urls := strings.Fields(strings.ReplaceAll(os.Getenv("TUGBOAT_METRICS_URLS"), ",", " "))
	if len(urls) == 0 {
		t.Fatal("TUGBOAT_METRICS_URLS is empty: give the components' /metrics URLs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exported := map[string]bool{}
	for _, u := range urls {
		names, err := scrape(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for n := range names {
			exported[n] = true
		}
	}
	_, qs, err := LoadDashboards(dashboardDir)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, q := range qs {
		p, err := Parse(q.Expr)
		if err != nil {
			t.Fatalf("%s/%s: %v", q.Dashboard, q.Panel, err)
		}
		for _, m := range p.Metrics {
			if m == "up" {
				continue
			}
			checked++
			if !exported[m] {
				t.Errorf("dashboard %s, panel %q queries %s, which no component exports (%s)", q.Dashboard, q.Panel, m, strings.Join(urls, " "))
			}
		}
	}
	t.Logf("%d metric references in %d queries checked against %d endpoints", checked, len(qs), len(urls))
}

// TestPrometheusTargetsUp waits (90 s at most) until the Prometheus at
// $TUGBOAT_PROMETHEUS_URL reports every job of deploy/prometheus.yml with
// all its targets up.
func TestPrometheusTargetsUp(t *testing.T) {
	base := os.Getenv("TUGBOAT_PROMETHEUS_URL")
	if base == "" {
		t.Fatal("TUGBOAT_PROMETHEUS_URL is empty: give the Prometheus to ask (http://127.0.0.1:9090)")
	}
	want := map[string]bool{}
	for _, sc := range loadPromConfig(t, composePromConfig).ScrapeConfigs {
		want[sc.JobName] = true
	}
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for {
		down, err := targetsDown(base, want)
		if err == nil && len(down) == 0 {
			t.Logf("all %d jobs up", len(want))
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = strings.Join(down, "; ")
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not up after 90s: %s", last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// targetsDown returns what is missing or down: jobs of want without a target
// and targets whose health is not up.
func targetsDown(base string, want map[string]bool) ([]string, error) {
	resp, err := http.Get(base + "/api/v1/targets?state=active")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				ScrapeURL string            `json:"scrapeUrl"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("targets API: %w", err)
	}
	var down []string
	seen := map[string]bool{}
	for _, tg := range body.Data.ActiveTargets {
		job := tg.Labels["job"]
		seen[job] = true
		if tg.Health != "up" {
			down = append(down, fmt.Sprintf("%s %s is %s %s", job, tg.ScrapeURL, tg.Health, tg.LastError))
		}
	}
	for j := range want {
		if !seen[j] {
			down = append(down, "job "+j+" has no target")
		}
	}
	return down, nil
}
