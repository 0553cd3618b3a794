package containerd

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	cfg := Config{Dir: "/var/lib/k/containerd", SandboxImage: "tugboat.local/pause:latest", Mirrors: map[string][]string{"tugboat.local": {"http://127.0.0.1:5000"}}}
	data, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`sandbox_image = "tugboat.local/pause:latest"`,
		`restrict_oom_score_adj = true`,
		`bin_dir = "/usr/lib/cni"`,
		`conf_dir = "/var/lib/k/containerd/cni/net.d"`,
		`address = "/var/lib/k/containerd/containerd.sock"`,
		`config_path = "/var/lib/k/containerd/certs.d"`,
		`root = "/var/lib/k/containerd/root"`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("config lacks %s:\n%s", want, data)
		}
	}
	hosts, err := cfg.HostsFiles()
	if err != nil {
		t.Fatal(err)
	}
	h := string(hosts["/var/lib/k/containerd/certs.d/tugboat.local/hosts.toml"])
	if !strings.Contains(h, `server = "http://127.0.0.1:5000"`) || !strings.Contains(h, `[host."http://127.0.0.1:5000"]`) {
		t.Errorf("hosts.toml:\n%s", h)
	}
}

func TestRenderRejects(t *testing.T) {
	for name, cfg := range map[string]Config{
		"relative dir":     {Dir: "k", SandboxImage: "p"},
		"no sandbox image": {Dir: "/k"},
	} {
		if _, err := cfg.Render(); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	if _, err := (Config{Dir: "/k", SandboxImage: "p", Mirrors: map[string][]string{"h": nil}}).HostsFiles(); err == nil {
		t.Error("a mirror without endpoints was accepted")
	}
}
