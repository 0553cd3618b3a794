package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// realNode fails (in CI) or skips a test that needs root and ip(8): it
// makes network namespaces and programs the host's nftables.
func realNode(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs root (network namespaces, nftables), which CI has")
		}
		t.Skip("needs root: network namespaces and nftables")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required: %v", tool, err)
		}
	}
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// guardRoute makes sure the narrow blackhole route for cidr (the one the
// kubelet installs) exists while the test runs, so that nothing for a
// cluster address can leave the machine; it removes it after the test
// only if the test added it.
func guardRoute(t *testing.T, cidr string) {
	t.Helper()
	out, err := exec.Command("ip", "route", "show", "exact", cidr).CombinedOutput()
	if err != nil {
		t.Fatalf("ip route show %s: %v: %s", cidr, err, out)
	}
	if strings.Contains(string(out), "blackhole") {
		return
	}
	sh(t, "ip", "route", "add", "blackhole", cidr)
	t.Cleanup(func() { _ = exec.Command("ip", "route", "del", "blackhole", cidr).Run() })
}

// ipForward is the sysctl that lets the host route between the test's
// namespaces.
const ipForward = "/proc/sys/net/ipv4/ip_forward"

// forwarding makes sure the host forwards IPv4 while the test runs: the
// test's namespaces reach each other through it. It sets ip_forward only
// if it is off, and then puts it back to 0 after the test.
func forwarding(t *testing.T) {
	t.Helper()
	cur, err := os.ReadFile(ipForward)
	if err != nil {
		t.Fatalf("read %s (the test routes between namespaces through the host): %v", ipForward, err)
	}
	if strings.TrimSpace(string(cur)) == "1" {
		return
	}
	if err := os.WriteFile(ipForward, []byte("1\n"), 0o644); err != nil {
		t.Fatalf("net.ipv4.ip_forward is %s and cannot be set to 1, which routing between the test's namespaces needs: %v",
			strings.TrimSpace(string(cur)), err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(ipForward, cur, 0o644); err != nil {
			t.Errorf("restore %s to %q: %v", ipForward, strings.TrimSpace(string(cur)), err)
		}
	})
}

// testNetns is a network namespace joined to the host by a veth pair: the
// host side has hostIP/30, the namespace nsIP/30 and a default route via
// the host side.
type testNetns struct {
	name         string
	hostIP, nsIP string
}

func makeNetns(t *testing.T, name, hostIf string, hostIP, nsIP string) *testNetns {
	t.Helper()
	_ = exec.Command("ip", "netns", "del", name).Run()
	_ = exec.Command("ip", "link", "del", hostIf).Run()
	sh(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	sh(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", name)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostIf).Run() })
	sh(t, "ip", "addr", "add", hostIP+"/30", "dev", hostIf)
	sh(t, "ip", "link", "set", hostIf, "up")
	sh(t, "ip", "-n", name, "addr", "add", nsIP+"/30", "dev", "eth0")
	sh(t, "ip", "-n", name, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", name, "link", "set", "lo", "up")
	sh(t, "ip", "-n", name, "route", "add", "default", "via", hostIP)
	return &testNetns{name: name, hostIP: hostIP, nsIP: nsIP}
}

// inNetns runs fn on a thread switched into the namespace; sockets fn
// creates belong to it for good. If the thread cannot switch back, it is
// left locked so that the runtime retires it.
func (n *testNetns) do(fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + n.name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", n.name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func (n *testNetns) listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	if err := n.do(func() (err error) { l, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatalf("listen in %s: %v", n.name, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// dial connects from inside the namespace.
func (n *testNetns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
