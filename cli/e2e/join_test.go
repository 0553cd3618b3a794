//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The join test's link between the host (the control plane) and the
// joining node's network namespace: a link-local /30 of its own, no
// other route on either side.
var (
	joinNet     = netip.MustParsePrefix("169.254.77.0/30")
	joinCPAddr  = netip.MustParseAddr("169.254.77.1")
	joinNodeIP  = netip.MustParseAddr("169.254.77.2")
	joinLineRe  = regexp.MustCompile(`(?m)^tug join (\S+) --token (\S+) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$`)
	joinNodeNam = "tug-join-e2e"
)

// joinCluster is the test's own control plane (tug init on the host,
// next to the suite's tug up: its own data dir, a port of its own on
// joinCPAddr, no kubelet) and the node joining it from a network
// namespace (its kubelet, containerd, pod bridge and nftables all inside).
type joinCluster struct {
	base, cpDir, nodeDir, kubeconfig, netns string
}

// TestJoin is issue 9's "Done when": tug init, then a second node joins
// with the printed command from a network namespace, becomes Ready and
// runs a pod of the project's image, whose logs and exec go through the
// apiserver to the node's kubelet over TLS; a wrong CA hash and a token
// past its TTL are refused with a clear message and a non-zero exit.
func TestJoin(t *testing.T) {
	j := newJoinCluster(t)
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(joinCPAddr, uint16(ports[0])).String()

	r := j.tug(t, 3*time.Minute, "init", "--data-dir", j.cpDir, "--listen-address", addr)
	if r.code != 0 {
		t.Fatalf("tug init: exit %d\n%s%s", r.code, r.out, r.err)
	}
	m := joinLineRe.FindStringSubmatch(r.out)
	if m == nil {
		t.Fatalf("tug init printed no join line:\n%s", r.out)
	}
	endpoint, token, hash := m[1], m[2], m[3]
	if endpoint != addr {
		t.Errorf("the join line names %s, want the listen address %s", endpoint, addr)
	}

	t.Run("wrong CA hash", func(t *testing.T) {
		dir := filepath.Join(j.base, "node-wrong-hash")
		r := j.join(t, dir, endpoint, "--token", token, "--discovery-token-ca-cert-hash", otherHash(t, hash), "--wait", "30s")
		if r.code == 0 || !strings.Contains(r.err, "refusing to trust "+endpoint+": the cluster CA does not match the --discovery-token-ca-cert-hash") {
			t.Fatalf("join with a wrong hash: exit %d\nstdout: %s\nstderr: %s", r.code, r.out, r.err)
		}
		if _, err := os.Stat(filepath.Join(dir, "bootstrap-kubeconfig")); !os.IsNotExist(err) {
			t.Errorf("a refused join wrote its bootstrap kubeconfig: %v", err)
		}
	})

	// refusedJoin runs tug join with tok and wants it refused as a token
	// the cluster does not accept, with nothing written.
	refusedJoin := func(t *testing.T, name, tok string) {
		t.Helper()
		id, _, _ := strings.Cut(tok, ".")
		dir := filepath.Join(j.base, name)
		r := j.join(t, dir, endpoint, "--token", tok, "--discovery-token-ca-cert-hash", hash, "--wait", "30s")
		want := "the cluster refused the bootstrap token " + id + ": it is unknown or has expired"
		if r.code == 0 || !strings.Contains(r.err, want) {
			t.Fatalf("join: exit %d, want %q\nstdout: %s\nstderr: %s", r.code, want, r.out, r.err)
		}
		if _, err := os.Stat(filepath.Join(dir, "bootstrap-kubeconfig")); !os.IsNotExist(err) {
			t.Errorf("a refused join wrote its bootstrap kubeconfig: %v", err)
		}
	}

	t.Run("token past its TTL", func(t *testing.T) {
		const ttl = 2 * time.Second
		r := j.tug(t, time.Minute, "token", "create", "--ttl", ttl.String(), "--description", "join e2e: expires at once")
		if r.code != 0 {
			t.Fatalf("token create: exit %d\n%s%s", r.code, r.out, r.err)
		}
		// The token expires at most ttl after create returned (the
		// apiserver's clock is this one): join as soon as that has
		// passed, before the token cleaner deletes its Secret, so the
		// refusal is the expiry's.
		expires := time.Now().Add(ttl)
		for time.Now().Before(expires) {
			time.Sleep(50 * time.Millisecond)
		}
		refusedJoin(t, "node-expired", strings.TrimSpace(r.out))
	})

	t.Run("unknown token", func(t *testing.T) {
		b := make([]byte, 11)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		// [a-z0-9]: hex digits are, and a token made here is not the cluster's.
		h := hex.EncodeToString(b)
		refusedJoin(t, "node-unknown", h[:6]+"."+h[6:22])
	})

	t.Run("open data dir", func(t *testing.T) {
		dir := filepath.Join(j.base, "node-open")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		r := j.join(t, dir, endpoint, "--token", token, "--discovery-token-ca-cert-hash", hash, "--wait", "30s")
		want := "data dir " + dir + " has mode 0777: it is writable by group or others"
		if r.code == 0 || !strings.Contains(r.err, want) {
			t.Fatalf("join into a world-writable data dir: exit %d, want %q\nstdout: %s\nstderr: %s", r.code, want, r.out, r.err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a refused join wrote %v", entries)
		}
	})

	// The node joins with the printed line, from its network namespace.
	t.Cleanup(func() { j.downNode(t) })
	r = j.join(t, j.nodeDir, endpoint, "--token", token, "--discovery-token-ca-cert-hash", hash, "--images", c.images, "--wait", "3m")
	if r.code != 0 {
		t.Fatalf("tug join: exit %d\nstdout: %s\nstderr: %s\n--- node tug.log ---\n%s", r.code, r.out, r.err, j.nodeLog())
	}
	if !strings.Contains(r.out, "Node "+joinNodeNam+" joined the cluster at "+endpoint+" and is Ready") {
		t.Errorf("tug join printed:\n%s", r.out)
	}
	// As kubeadm: the shared token does not stay on the node.
	if _, err := os.Stat(filepath.Join(j.nodeDir, "bootstrap-kubeconfig")); !os.IsNotExist(err) {
		t.Errorf("the bootstrap kubeconfig is still on the joined node: %v", err)
	}
	if out := j.ok(t, "get", "nodes", "-o", "wide"); !regexp.MustCompile(`(?m)^` + joinNodeNam + `\s+Ready\s+<none>\s+\S+\s+v1\.34\.0-tugboat\s+` + regexp.QuoteMeta(joinNodeIP.String()) + `\s`).MatchString(out) {
		t.Errorf("get nodes -o wide:\n%s", out)
	}

	// A pod pinned to the joined node, with the project's image.
	pod := filepath.Join(j.base, "joined-pod.yaml")
	if err := os.WriteFile(pod, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: joined-pod
spec:
  nodeName: `+joinNodeNam+`
  containers:
  - name: sise
    image: tugboat.local/sise:0.5.0
    ports:
    - containerPort: 9876
`), 0o644); err != nil {
		t.Fatal(err)
	}
	j.ok(t, "apply", "-f", pod)
	j.waitFor(t, 2*time.Minute, regexp.MustCompile(`(?m)^joined-pod\s+1/1\s+Running\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+`+joinNodeNam+`\s`), "get", "pods", "-o", "wide")

	// Logs and exec go apiserver -> kubelet (169.254.77.2) over TLS: the
	// kubelet's port speaks only TLS, with a certificate for the node IP.
	kubeletAddr := net.JoinHostPort(joinNodeIP.String(), "10250")
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", kubeletAddr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // only the certificate's names are read
	if err != nil {
		t.Fatalf("TLS to the joined kubelet at %s: %v", kubeletAddr, err)
	}
	if certs := conn.ConnectionState().PeerCertificates; len(certs) == 0 || certs[0].VerifyHostname(joinNodeIP.String()) != nil {
		t.Errorf("the joined kubelet's serving certificate does not name %s", joinNodeIP)
	}
	conn.Close()
	if out := j.ok(t, "logs", "joined-pod"); !strings.Contains(out, "sise 0.5.0 listening on :9876") {
		t.Errorf("logs joined-pod:\n%s", out)
	}
	if out := j.ok(t, "exec", "joined-pod", "--", "wget", "-qO-", "http://localhost:9876/info"); !strings.Contains(out, `"version": "0.5.0"`) {
		t.Errorf("exec joined-pod -- wget /info:\n%s", out)
	}
	j.ok(t, "delete", "pod", "joined-pod", "--now")
}

// newJoinCluster makes the temp dirs and the network namespace; their
// removal, tug down of the control plane and the stop of every process
// left under the temp dir run on cleanup, also when the test fails.
func newJoinCluster(t *testing.T) *joinCluster {
	t.Helper()
	base, err := os.MkdirTemp("", "tug-join-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	j := &joinCluster{base: base, cpDir: filepath.Join(base, "cp"), nodeDir: filepath.Join(base, "node"), kubeconfig: filepath.Join(base, "kube", "config")}
	t.Cleanup(func() {
		stopProcessesUnder(t, base)
		unmountUnder(t, base)
		if err := os.RemoveAll(base); err != nil {
			t.Errorf("remove %s: %v", base, err)
		}
	})
	j.netns = joinNetns(t)
	t.Cleanup(func() {
		if out, err := exec.Command(c.tug, "down", "--data-dir", j.cpDir, "--purge").CombinedOutput(); err != nil {
			t.Errorf("tug down of the control plane: %v\n%s", err, out)
		}
	})
	return j
}

// joinNetns makes a network namespace with its loopback up, joined to
// the host by a veth pair on joinNet, and removes both on cleanup.
func joinNetns(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && joinNet.Overlaps(p) {
			t.Fatalf("the host already has %s, in the test's %s", a, joinNet)
		}
	}
	id := os.Getpid() % 100000
	netns, host, peer := fmt.Sprintf("tugboat-join-%d", id), fmt.Sprintf("tjn%dh", id), fmt.Sprintf("tjn%dn", id)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", netns)
	t.Cleanup(func() {
		// Deleting the namespace deletes its veth end, and so the pair.
		if out, err := exec.Command("ip", "netns", "del", netns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", netns, err, out)
		}
		if exec.Command("ip", "link", "show", host).Run() == nil {
			_ = exec.Command("ip", "link", "del", host).Run()
		}
	})
	ip("link", "add", host, "type", "veth", "peer", "name", peer, "netns", netns)
	ip("addr", "add", netip.PrefixFrom(joinCPAddr, joinNet.Bits()).String(), "dev", host)
	ip("link", "set", host, "up")
	ip("-n", netns, "addr", "add", netip.PrefixFrom(joinNodeIP, joinNet.Bits()).String(), "dev", peer)
	ip("-n", netns, "link", "set", peer, "up")
	ip("-n", netns, "link", "set", "lo", "up")
	return netns
}

// tug runs bin/tug against the test's control plane.
func (j *joinCluster) tug(t *testing.T, timeout time.Duration, args ...string) run {
	t.Helper()
	return j.command(t, timeout, c.tug, append([]string{"--kubeconfig", j.kubeconfig}, args...)...)
}

// inNetns is the command line that runs args in the node's network
// namespace only. Not "ip netns exec": that also gives the command a
// mount namespace of its own with a fresh /sys, where runc finds no
// cgroup filesystem, and where a later tug down would not see the pods'
// network namespace mounts the join's containerd made.
func (j *joinCluster) inNetns(args ...string) []string {
	return append([]string{"--net=" + filepath.Join("/run/netns", j.netns), "--"}, args...)
}

// join runs tug join in the node's network namespace, as that node.
func (j *joinCluster) join(t *testing.T, dataDir, endpoint string, args ...string) run {
	t.Helper()
	full := append([]string{c.tug, "join", endpoint, "--data-dir", dataDir,
		"--node-name", joinNodeNam, "--node-ip", joinNodeIP.String()}, args...)
	return j.command(t, 4*time.Minute, "nsenter", j.inNetns(full...)...)
}

func (j *joinCluster) command(t *testing.T, timeout time.Duration, name string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return run{out: out.String(), err: errOut.String(), code: code}
}

func (j *joinCluster) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := j.tug(t, time.Minute, args...)
	if r.code != 0 {
		t.Fatalf("tug %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// waitFor polls tug args until match finds its output.
func (j *joinCluster) waitFor(t *testing.T, timeout time.Duration, match *regexp.Regexp, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := j.tug(t, time.Minute, args...)
		if r.code == 0 && match.MatchString(r.out) {
			return r.out
		}
		if time.Now().After(deadline) {
			t.Fatalf("tug %s did not print %q within %v; last:\n%s%s\n--- node tug.log ---\n%s", strings.Join(args, " "), match, timeout, r.out, r.err, j.nodeLog())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// downNode stops the joined node from inside its namespace (its pods,
// bridge, routes and nftables table are there).
func (j *joinCluster) downNode(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(j.nodeDir); os.IsNotExist(err) {
		return
	}
	out, err := exec.Command("nsenter", j.inNetns(c.tug, "down", "--data-dir", j.nodeDir, "--purge")...).CombinedOutput()
	if err != nil {
		t.Errorf("tug down of the joined node: %v\n%s\n--- node tug.log ---\n%s", err, out, j.nodeLog())
	}
}

func (j *joinCluster) nodeLog() string {
	b, _ := os.ReadFile(filepath.Join(j.nodeDir, "tug.log"))
	return string(lastBytes(b, 6<<10))
}

// otherHash is a well-formed CA hash that is not want.
func otherHash(t *testing.T, want string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	h := "sha256:" + hex.EncodeToString(b)
	if h == want {
		t.Fatal("a random hash matched the CA's")
	}
	return h
}

// stopProcessesUnder kills, by PID, every process still running with dir
// in its command line (a cluster process, a containerd or shim the
// downs did not stop).
func stopProcessesUnder(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Errorf("list processes: %v", err)
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir+"/")) {
			continue
		}
		t.Errorf("process %d was left running: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// unmountUnder detaches whatever the host still has mounted under dir.
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Errorf("read mounts: %v", err)
		return
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			t.Errorf("%s was left mounted", f[1])
			if err := syscall.Unmount(f[1], syscall.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", f[1], err)
			}
		}
	}
}
