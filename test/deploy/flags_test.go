package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// binary returns bin/tug-<component>, skipping (failing in CI) when make
// build has not run.
func binary(t *testing.T, component string) string {
	t.Helper()
	name := "tug-" + component
	if component == "tug" {
		name = "tug" // the command line, whose image runs the init phases
	}
	p, err := filepath.Abs(filepath.Join(root, "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: run make build", p)
		}
		t.Skipf("%s: run make build", p)
	}
	return p
}

// acceptsFlags runs the component's binary with args and --help: Go's flag
// package stops at the first flag it does not know (exit 2) or a value it
// cannot parse, and exits 0 at --help once every flag before it parsed.
func acceptsFlags(t *testing.T, component string, args []string) {
	t.Helper()
	out, err := exec.Command(binary(t, component), append(append([]string{}, args...), "--help")...).CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Errorf("tug-%s %s: %v: %s", component, strings.Join(args, " "), err, lines[0])
	}
}

var imageName = regexp.MustCompile(`/([a-z-]+):[^/]*$`)

// TestChartArgsAreTheBinariesFlags: every container the chart renders
// passes only flags its binary knows, with values it parses.
func TestChartArgsAreTheBinariesFlags(t *testing.T) {
	out, err := exec.Command(helm(t), "template", "tugboat", chartDir,
		"--set", "etcd.embedded=false", "--set", "etcd.endpoints={http://etcd-0:2379}", "--set", "dns.upstreams={192.0.2.53}").CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	seen := 0
	for _, doc := range strings.Split(string(out), "\n---") {
		var pod corev1.PodTemplateSpec
		switch {
		case strings.Contains(doc, "\nkind: Deployment"):
			var d appsv1.Deployment
			if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			pod = d.Spec.Template
		case strings.Contains(doc, "\nkind: DaemonSet"):
			var d appsv1.DaemonSet
			if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			pod = d.Spec.Template
		default:
			continue
		}
		for _, c := range pod.Spec.Containers {
			m := imageName.FindStringSubmatch(c.Image)
			if m == nil {
				t.Fatalf("image %q is not <registry>/<component>:<tag>", c.Image)
			}
			t.Run(m[1], func(t *testing.T) { acceptsFlags(t, m[1], c.Args) })
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("the chart rendered no containers")
	}
}

// TestComposeCommandsAreTheBinariesFlags: the same for docker-compose.yml,
// with its ${VAR:-default} settings at their defaults.
func TestComposeCommandsAreTheBinariesFlags(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Image   string   `json:"image"`
			Command []string `json:"command"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	defaults := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	seen := 0
	for name, s := range f.Services {
		m := imageName.FindStringSubmatch(defaults.ReplaceAllString(s.Image, "$1"))
		if m == nil || m[1] == "etcd" || m[1] == "prometheus" {
			continue // Debian's binaries
		}
		var args []string
		for _, a := range s.Command {
			args = append(args, defaults.ReplaceAllString(a, "$1"))
		}
		t.Run(name, func(t *testing.T) { acceptsFlags(t, m[1], args) })
		seen++
	}
	if seen == 0 {
		t.Fatal("docker-compose.yml has no Tugboat service")
	}
}
