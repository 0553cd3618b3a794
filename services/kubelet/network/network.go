// Package network prepares a node's pod network: the CNI configuration
// (bridge + host-local on the node's pod CIDR, portmap for hostPorts,
// loopback) that the runtime applies to every sandbox, and the narrow
// blackhole routes that keep packets for the cluster CIDRs on this host.
package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// Bridge is the name of the node's pod bridge.
const Bridge = "tug0"

// ConfFile is the name of the CNI config the kubelet writes.
const ConfFile = "10-tugboat.conflist"

// WriteCNIConfig writes the pod network's CNI config for podCIDR into dir.
// The file is replaced atomically, so the runtime never reads half of it.
// IPAM state (host-local's allocations) lives in ipamDir. Pods get routes
// to routed only (the cluster and service CIDRs), no default route: nothing
// a pod sends can head off the machine.
func WriteCNIConfig(dir, ipamDir string, podCIDR netip.Prefix, routed ...netip.Prefix) error {
	if !podCIDR.Addr().Is4() {
		return fmt.Errorf("pod CIDR %s: only IPv4 is supported", podCIDR)
	}
	if podCIDR.Bits() > 30 {
		return fmt.Errorf("pod CIDR %s is too small for pods", podCIDR)
	}
	routes := []map[string]string{}
	for _, p := range routed {
		routes = append(routes, map[string]string{"dst": p.Masked().String()})
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "tugboat",
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      Bridge,
				"isGateway":   true,
				"ipMasq":      false,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": ipamDir,
					"ranges":  [][]map[string]string{{{"subnet": podCIDR.Masked().String()}}},
					"routes":  routes,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode CNI config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("CNI conf dir: %w", err)
	}
	tmp := filepath.Join(dir, "."+ConfFile)
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write CNI config: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ConfFile)); err != nil {
		return fmt.Errorf("install CNI config: %w", err)
	}
	return nil
}
