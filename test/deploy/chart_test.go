package deploy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/prometheus.yml from the chart")

// object is the part of a rendered manifest the checks read.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

func render(t *testing.T, args ...string) ([]object, error) {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", "tugboat", chartDir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &renderError{err: err, stderr: stderr.String()}
	}
	var objs []object
	for _, doc := range strings.Split(string(out), "\n---") {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

type renderError struct {
	err    error
	stderr string
}

func (e *renderError) Error() string { return e.err.Error() + ": " + e.stderr }

// TestComposeScrapeConfigIsTheChart's: deploy/prometheus.yml, which the
// compose cluster's Prometheus loads, is what the chart renders with
// deploy/compose-values.yaml (go test -update rewrites it).
func TestComposeScrapeConfigIsTheCharts(t *testing.T) {
	objs, err := render(t, "-f", composeValues)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, o := range objs {
		if o.Kind == "ConfigMap" && o.Metadata.Name == "tugboat-prometheus" {
			got = o.Data["prometheus.yml"]
		}
	}
	if got == "" {
		t.Fatal("the chart rendered no ConfigMap tugboat-prometheus with prometheus.yml")
	}
	if *update {
		if err := os.WriteFile(composePromConfig, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(composePromConfig)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the chart's rendering (go test ./test/deploy -run ScrapeConfig -update):\n--- chart\n%s\n--- file\n%s", composePromConfig, got, want)
	}
	for _, sc := range loadPromConfig(t, composePromConfig).ScrapeConfigs {
		if len(sc.StaticConfigs) == 0 || len(sc.StaticConfigs[0].Targets) == 0 {
			t.Errorf("job %s has no static target: deploy/compose-values.yaml misses its component", sc.JobName)
		}
	}
}

// TestChartDashboards: each dashboard file is a ConfigMap labelled for
// Grafana's sidecar, holding the file's JSON unchanged.
func TestChartDashboards(t *testing.T) {
	objs, err := render(t)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dashboardDir, "*.json"))
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(base, func(t *testing.T) {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if o.Kind != "ConfigMap" || o.Metadata.Name != "tugboat-dashboard-"+base {
					continue
				}
				if o.Metadata.Labels["grafana_dashboard"] != "1" {
					t.Errorf("labels %v: want grafana_dashboard=1", o.Metadata.Labels)
				}
				got := o.Data["tugboat-"+base+".json"]
				if !json.Valid([]byte(got)) || strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
					t.Errorf("the ConfigMap's JSON differs from %s", f)
				}
				return
			}
			t.Fatalf("no ConfigMap tugboat-dashboard-%s", base)
		})
	}
}

// TestChartRefusesSettingsThatCannotWork: helm template fails with a
// message naming the setting.
func TestChartRefusesSettingsThatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     []string
		wantErr string
	}{
		{"replicas with the embedded etcd", []string{"apiserver.replicas=3"}, "apiserver.replicas is 3 but etcd.embedded is true"},
		{"embedded off without endpoints", []string{"etcd.embedded=false"}, "etcd.embedded is false but etcd.endpoints is empty"},
		{"endpoint without a scheme", []string{"etcd.embedded=false", "etcd.endpoints={etcd-0:2379}"}, `"etcd-0:2379" is not an etcd endpoint URL`},
		{"no apiserver", []string{"apiserver.replicas=0"}, "apiserver.replicas must be at least 1"},
		{"two components on one port", []string{"scheduler.metricsPort=10248"}, "are both port 10248"},
		{"DNS replicas all publishing", []string{"dns.replicas=2"}, "dns.replicas is 2 with dns.publish"},
		{"a bootstrap token that is not one", []string{"pki.bootstrapToken=Not-A-Token_0123456789"}, "pki.bootstrapToken must be 16 to 64 lower-case letters and digits"},
		{"a short bootstrap token", []string{"pki.bootstrapToken=abc123"}, "pki.bootstrapToken must be 16 to 64"},
		{"a CA shorter than its leaves", []string{"pki.caValidityDays=100"}, "pki.caValidityDays (100) is shorter than pki.validityDays (365)"},
		{"renewal window as long as the validity", []string{"pki.renewBeforeDays=365"}, "pki.renewBeforeDays (365) must be less than pki.validityDays (365)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := render(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("helm template --set %v: %v, want an error containing %q", tc.set, err, tc.wantErr)
			}
		})
	}
	t.Run("external etcd with replicas renders", func(t *testing.T) {
		if _, err := render(t, "--set", "etcd.embedded=false", "--set", "etcd.endpoints={http://etcd-0:2379,http://etcd-1:2379}", "--set", "apiserver.replicas=3"); err != nil {
			t.Fatal(err)
		}
	})
}
