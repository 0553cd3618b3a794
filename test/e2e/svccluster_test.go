//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// The cluster's Service network, as the apiserver, proxy and kubelet default it.
const (
	serviceCIDR = "10.96.0.0/12"
	clusterCIDR = "10.244.0.0/16"
	dnsIP       = "10.96.0.10"
)

// startServices starts the cluster DNS and the proxy once the node is
// Ready (its pod CIDR is known then). tug-dns serves on the node's pod
// bridge address (before the bridge exists: it binds with IP_FREEBIND) and
// on 127.0.0.1, both on one free port, and publishes kube-dns
// (10.96.0.10) with Endpoints at the bridge address; the proxy sends
// 10.96.0.10:53 there.
func (c *Cluster) startServices() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := c.CS.Nodes().Get(ctx, &metav1.GetOptions{Name: NodeName})
	if err != nil {
		return err
	}
	cidr, err := netip.ParsePrefix(n.GetSpec().GetPodCidr())
	if err != nil {
		return fmt.Errorf("node %s pod CIDR %q: %w", NodeName, n.GetSpec().GetPodCidr(), err)
	}
	c.BridgeIP = cidr.Masked().Addr().Next().String()
	if c.DNSPort, err = freeUDPTCPPort(); err != nil {
		return err
	}
	c.DNSAddr = fmt.Sprintf("127.0.0.1:%d", c.DNSPort)
	dnsMetrics, err := freePort()
	if err != nil {
		return err
	}
	if err := c.start("dns", "--kubeconfig", c.Kubeconfigs["dns"], "--metrics-address", fmt.Sprintf("127.0.0.1:%d", dnsMetrics),
		"--listen", c.DNSAddr, "--listen", net.JoinHostPort(c.BridgeIP, fmt.Sprint(c.DNSPort)),
		// Names outside the cluster go to a loopback port nothing serves
		// (an answer of SERVFAIL), never to the host's own resolver: the
		// tests' traffic stays on the machine.
		"--upstream", "127.0.0.1:9",
		"--publish-service", "--service-ip", dnsIP,
		"--advertise-address", c.BridgeIP, "--advertise-port", fmt.Sprint(c.DNSPort)); err != nil {
		return err
	}
	proxyMetrics, err := freePort()
	if err != nil {
		return err
	}
	if err := c.start("proxy", "--kubeconfig", c.Kubeconfigs["proxy"], "--node-name", NodeName, "--metrics-address", fmt.Sprintf("127.0.0.1:%d", proxyMetrics),
		"--service-cidr", serviceCIDR, "--cluster-cidr", clusterCIDR, "--state-dir", c.proxyStateDir()); err != nil {
		return err
	}
	for name, port := range map[string]int{"dns": dnsMetrics, "proxy": proxyMetrics} {
		if err := waitReadyz(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			return fmt.Errorf("%s not ready: %w", name, err)
		}
	}
	// kube-dns is published with its Endpoints before the first test.
	return poll(30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ep, err := c.CS.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"})
		if err != nil {
			return err
		}
		for _, s := range ep.GetSubsets() {
			for _, a := range s.GetAddresses() {
				if a.GetIp() == c.BridgeIP {
					return nil
				}
			}
		}
		return fmt.Errorf("kube-dns endpoints %v lack %s", ep.GetSubsets(), c.BridgeIP)
	})
}

func waitReadyz(addr string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	return poll(30*time.Second, func() error {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}

// freeUDPTCPPort is a loopback port free for both TCP and UDP (DNS
// serves both on one port).
func freeUDPTCPPort() (int, error) {
	for range 20 {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		u.Close()
		return p, nil
	}
	return 0, errors.New("no port free for both TCP and UDP")
}

// cleanupProxy removes the proxy's nftables tables: tug-proxy --cleanup.
func (c *Cluster) cleanupProxy() {
	bin := filepath.Join(c.Root, "bin/tug-proxy")
	if _, err := os.Stat(bin); err != nil {
		return
	}
	out, err := exec.Command(bin, "--cleanup", "--state-dir", c.proxyStateDir(), "--log-format", "console").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: proxy cleanup: %v\n%s\n", err, out)
	}
}

// hostLeftovers lists what of the cluster and its tests is still on the
// host: the proxy's nftables table, the pod bridge, the guard routes, the
// NodePort test's namespace and veth.
func hostLeftovers() []string {
	var left []string
	check := func(what string, args []string, match func(string) bool) {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			left = append(left, fmt.Sprintf("%s: %v: %s", strings.Join(args, " "), err, out))
			return
		}
		for _, l := range strings.Split(string(out), "\n") {
			if match(l) {
				left = append(left, what+": "+l)
			}
		}
	}
	check("nftables table", []string{"nft", "list", "tables"}, func(l string) bool { return strings.Contains(l, "tugboat") })
	check("network namespace", []string{"ip", "netns", "list"}, func(l string) bool { return strings.HasPrefix(l, "tugboat-np-") })
	check("link", []string{"ip", "-o", "link", "show"}, func(l string) bool {
		f := strings.Fields(l)
		return len(f) > 1 && (strings.HasPrefix(f[1], "tnp") || strings.HasPrefix(f[1], "tug0"))
	})
	check("route", []string{"ip", "route", "show", "type", "blackhole"}, func(l string) bool {
		return strings.HasPrefix(l, "blackhole "+serviceCIDR) || strings.HasPrefix(l, "blackhole "+clusterCIDR)
	})
	return left
}

// proxyStateDir is where the proxy records what it changed on the host
// (route_localnet) for its --cleanup.
func (c *Cluster) proxyStateDir() string { return filepath.Join(c.Dir, "proxy") }
