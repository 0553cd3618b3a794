package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/VictoriaMetrics/metricsql"
)

// Query is one PromQL expression of a dashboard panel.
type Query struct {
	Dashboard, Panel, Expr string
}

// Dashboard is the part of Grafana's dashboard JSON the checks read.
type Dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // rows nest panels
}

// LoadDashboards reads every *.json in dir and returns their queries.
func LoadDashboards(dir string) (map[string]Dashboard, []Query, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no dashboards in %s", dir)
	}
	boards := map[string]Dashboard{}
	var qs []Query
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		boards[name] = d
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				for _, t := range p.Targets {
					qs = append(qs, Query{Dashboard: name, Panel: p.Title, Expr: t.Expr})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return boards, qs, nil
}

// grafanaVars are the dashboards' variables with a value PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// Parsed is what a query selects.
type Parsed struct {
	// Metrics are the metric names the query reads.
	Metrics []string
	// Jobs are the values of job="..." matchers.
	Jobs []string
}

// Parse parses expr as PromQL (with Grafana's interval variables filled
// in) and returns the metric names and jobs it selects. A selector without a
// metric name is an error: a dashboard must say what it reads.
func Parse(expr string) (Parsed, error) {
	e, err := metricsql.Parse(grafanaVars.Replace(expr))
	if err != nil {
		return Parsed{}, err
	}
	var p Parsed
	var bad error
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		me, ok := e.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for _, lfs := range me.LabelFilterss {
			name := ""
			for _, lf := range lfs {
				switch {
				case lf.Label == "__name__" && !lf.IsRegexp && !lf.IsNegative:
					name = lf.Value
				case lf.Label == "job" && !lf.IsRegexp && !lf.IsNegative:
					p.Jobs = append(p.Jobs, lf.Value)
				}
			}
			if name == "" {
				bad = fmt.Errorf("a selector without a metric name: %s", me.AppendString(nil))
				continue
			}
			p.Metrics = append(p.Metrics, name)
		}
	})
	if bad != nil {
		return Parsed{}, bad
	}
	p.Metrics, p.Jobs = uniq(p.Metrics), uniq(p.Jobs)
	return p, nil
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
