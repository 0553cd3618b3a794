//go:build deploy

package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

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
