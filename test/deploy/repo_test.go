package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// root is the repository root, from this package's directory.
const root = "../.."

var (
	dashboardDir      = filepath.Join(root, "charts", "tugboat", "dashboards")
	chartDir          = filepath.Join(root, "charts", "tugboat")
	composeValues     = filepath.Join(root, "deploy", "compose-values.yaml")
	composePromConfig = filepath.Join(root, "deploy", "prometheus.yml")
)

// promConfig is the part of prometheus.yml the checks read.
type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

func loadPromConfig(t *testing.T, path string) promConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c promConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(c.ScrapeConfigs) == 0 {
		t.Fatalf("%s has no scrape_configs", path)
	}
	return c
}

// helm returns the helm binary: $TUGBOAT_HELM, else make tools' .tools/bin/helm.
// Without it the test is skipped, except in CI (CI set), where it fails.
func helm(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TUGBOAT_HELM")
	if p == "" {
		p = filepath.Join(root, ".tools", "bin", "helm")
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if _, err := os.Stat(p); err != nil {
		if _, err := exec.LookPath("helm"); err == nil {
			return "helm"
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("helm not found at %s: run make tools", p)
		}
		t.Skipf("helm not found at %s: run make tools", p)
	}
	return p
}
