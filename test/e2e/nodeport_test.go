//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// The test's own link from a network namespace to the host: a link-local
// /30, far from 169.254.169.254 and from every cluster CIDR.
var (
	clientNet  = netip.MustParsePrefix("169.254.123.0/30")
	hostSide   = netip.MustParseAddr("169.254.123.1")
	clientSide = netip.MustParseAddr("169.254.123.2")
)

// TestNodePort: a NodePort Service in front of deployment-for-service
// answers on an address of the node from a network namespace the test
// made (a client off the node, as far as the node can tell), and on the
// node's localhost.
func TestNodePort(t *testing.T) {
	t.Parallel()
	ns := workloadNamespace(t)
	createSeedDeployment(t, ns, "deployment-for-service.yaml")
	svc := createService(t, ns, &corev1.Service{ApiVersion: "v1", Kind: "Service", Metadata: &metav1.ObjectMeta{Name: "service-np"},
		Spec: &corev1.ServiceSpec{Type: "NodePort", Selector: map[string]string{"app": "sise"},
			Ports: []*corev1.ServicePort{{Port: 80, TargetPort: structpb.NewNumberValue(9876)}}}})
	port := svc.GetSpec().GetPorts()[0].GetNodePort()
	if port < 30000 || port > 32767 {
		t.Fatalf("service-np got nodePort %d, want one of 30000-32767", port)
	}
	waitEndpoints(t, ns, "service-np", 1)

	t.Run("FromNetns", func(t *testing.T) {
		netns := clientNetns(t)
		addr := netip.AddrPortFrom(hostSide, uint16(port)).String()
		url := "http://" + addr + "/info"
		var out []byte
		err := poll(60*time.Second, func() error {
			var err error
			out, err = exec.Command("ip", "netns", "exec", netns, "busybox", "timeout", "3", "busybox", "wget", "-qO-", url).CombinedOutput()
			if err != nil {
				return fmt.Errorf("wget %s in %s: %v: %s", url, netns, err, out)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("the NodePort never answered: %v", err)
		}
		var v struct{ Host, Version, From string }
		if err := json.Unmarshal(out, &v); err != nil || v.Version != "0.5.0" || v.Host != addr {
			t.Errorf("%s from %s = %q (%v), want version 0.5.0 and the node port as host", url, netns, out, err)
		}
	})

	t.Run("Localhost", func(t *testing.T) {
		url := fmt.Sprintf("http://127.0.0.1:%d/info", port)
		var body string
		err := poll(30*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "busybox", "timeout", "3", "busybox", "wget", "-qO-", url).CombinedOutput()
			body = string(out)
			return err
		})
		if err != nil || !strings.Contains(body, `"version": "0.5.0"`) {
			t.Fatalf("%s on the node = %q, %v", url, body, err)
		}
	})
}

// clientNetns makes a network namespace joined to the host by a veth pair
// on clientNet (the host side hostSide, the namespace's clientSide, no
// other route) and removes both when the test ends. It fails when
// clientNet is in use on the host.
func clientNetns(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && clientNet.Overlaps(p) {
			t.Fatalf("the host already has %s, in the test's %s", a, clientNet)
		}
	}
	id := os.Getpid() % 100000
	netns, host, peer := fmt.Sprintf("tugboat-np-%d", id), fmt.Sprintf("tnp%dh", id), fmt.Sprintf("tnp%dn", id)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", netns)
	t.Cleanup(func() {
		// Deleting the namespace deletes its veth end and so the pair.
		if out, err := exec.Command("ip", "netns", "del", netns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", netns, err, out)
		}
		if exec.Command("ip", "link", "show", host).Run() == nil {
			_ = exec.Command("ip", "link", "del", host).Run()
		}
	})
	run("link", "add", host, "type", "veth", "peer", "name", peer, "netns", netns)
	run("addr", "add", netip.PrefixFrom(hostSide, clientNet.Bits()).String(), "dev", host)
	run("link", "set", host, "up")
	run("-n", netns, "addr", "add", netip.PrefixFrom(clientSide, clientNet.Bits()).String(), "dev", peer)
	run("-n", netns, "link", "set", peer, "up")
	run("-n", netns, "link", "set", "lo", "up")
	return netns
}
