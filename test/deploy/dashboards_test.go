package deploy

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, expr    string
		metrics, jobs []string
		wantErr       string
	}{
		{"rate by label", `sum by (grpc_code) (rate(tugboat_apiserver_grpc_server_handled_total{job="tugboat-apiserver",grpc_code!="OK"}[$__rate_interval]))`,
			[]string{"tugboat_apiserver_grpc_server_handled_total"}, []string{"tugboat-apiserver"}, ""},
		{"histogram quantile", `histogram_quantile(0.99, sum by (le) (rate(tugboat_scheduler_pod_scheduling_duration_seconds_bucket{job="tugboat-scheduler",instance=~"$instance"}[5m])))`,
			[]string{"tugboat_scheduler_pod_scheduling_duration_seconds_bucket"}, []string{"tugboat-scheduler"}, ""},
		{"two metrics, regex job not counted", `sum(up{job=~"tugboat-.*"}) / count(tugboat_kubelet_running_pods)`,
			[]string{"tugboat_kubelet_running_pods", "up"}, nil, ""},
		{"syntax error", `sum(rate(tugboat_x_total[5m])`, nil, nil, `want ","`},
		{"selector without a name", `sum(rate({job="tugboat-apiserver"}[5m]))`, nil, nil, "without a metric name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.expr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Metrics, tc.metrics) || len(p.Jobs) != len(tc.jobs) || (len(tc.jobs) > 0 && !reflect.DeepEqual(p.Jobs, tc.jobs)) {
				t.Fatalf("Parse = %+v, want metrics %v jobs %v", p, tc.metrics, tc.jobs)
			}
		})
	}
}

// TestDashboards checks every dashboard: one per scrape job plus the
// overview, unique uids, every query parses, reads tugboat_ metrics (or up)
// and selects only jobs the scrape configuration defines.
func TestDashboards(t *testing.T) {
	boards, qs, err := LoadDashboards(dashboardDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadPromConfig(t, composePromConfig)
	jobs := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		jobs[sc.JobName] = true
		component := strings.TrimPrefix(sc.JobName, "tugboat-")
		if _, ok := boards[component]; !ok {
			t.Errorf("scrape job %s has no dashboard %s.json", sc.JobName, component)
		}
	}
	if _, ok := boards["overview"]; !ok {
		t.Error("no overview.json dashboard")
	}
	uids := map[string]string{}
	for name, b := range boards {
		if b.UID == "" || b.Title == "" {
			t.Errorf("%s: uid %q, title %q: both required", name, b.UID, b.Title)
		}
		if other, ok := uids[b.UID]; ok {
			t.Errorf("%s and %s share uid %s", name, other, b.UID)
		}
		uids[b.UID] = name
	}
	perBoard := map[string]int{}
	for _, q := range qs {
		t.Run(q.Dashboard+"/"+q.Panel, func(t *testing.T) {
			perBoard[q.Dashboard]++
			p, err := Parse(q.Expr)
			if err != nil {
				t.Fatalf("%s: %v", q.Expr, err)
			}
			for _, m := range p.Metrics {
				if m != "up" && !strings.HasPrefix(m, "tugboat_") {
					t.Errorf("%s reads %s: not a Tugboat metric", q.Expr, m)
				}
			}
			for _, j := range p.Jobs {
				if !jobs[j] {
					t.Errorf("%s selects job %q, which no scrape config defines", q.Expr, j)
				}
			}
		})
	}
	for name := range boards {
		if perBoard[name] == 0 {
			t.Errorf("dashboard %s has no queries", name)
		}
	}
}
