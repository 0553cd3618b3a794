package network

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteCNIConfig(t *testing.T) {
	dir := t.TempDir()
	if err := WriteCNIConfig(dir, "/ipam", netip.MustParsePrefix("10.244.3.7/24"), netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("10.96.0.0/12")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ConfFile))
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Name    string `json:"name"`
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			IPAM   struct {
				Type    string                `json:"type"`
				DataDir string                `json:"dataDir"`
				Ranges  [][]map[string]string `json:"ranges"`
				Routes  []map[string]string   `json:"routes"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Plugins) != 2 || conf.Plugins[0].Type != "bridge" || conf.Plugins[1].Type != "portmap" {
		t.Fatalf("plugins %+v", conf.Plugins)
	}
	b := conf.Plugins[0]
	if b.Bridge != Bridge || b.IPAM.Type != "host-local" || b.IPAM.DataDir != "/ipam" || b.IPAM.Ranges[0][0]["subnet"] != "10.244.3.0/24" {
		t.Errorf("bridge plugin %+v", b)
	}
	// Only the cluster ranges are routed: no default route in a pod.
	if r := b.IPAM.Routes; len(r) != 2 || r[0]["dst"] != "10.244.0.0/16" || r[1]["dst"] != "10.96.0.0/12" {
		t.Errorf("routes %v, want the cluster and service CIDRs only", r)
	}
}

func TestWriteCNIConfigRejects(t *testing.T) {
	for _, p := range []string{"fd00::/64", "10.244.0.0/31"} {
		if err := WriteCNIConfig(t.TempDir(), "/ipam", netip.MustParsePrefix(p)); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}
