//go:build e2e

// Package e2e runs Tugboat's binaries as a real one-node cluster: the
// apiserver, the scheduler, the controller-manager, a kubelet with its own
// containerd (runc, CNI bridge), the project's images served to it from
// bin/images, the proxy (nftables) and the cluster DNS. Every test shares
// that cluster and works in a namespace of its own. Run with
// `make test-e2e` (root; `make deps build images` first).
package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// cluster is the running cluster every test uses.
var cluster *Cluster

// NodeName is the e2e node.
const NodeName = "e2e-node"

// Cluster is the processes of a one-node cluster and a client for it.
type Cluster struct {
	Dir     string
	Root    string // repository root
	APIAddr string
	EtcdURL string // the apiserver's embedded etcd, for tests that read it directly
	// Kubeconfig is the admin's (kubernetes-admin, system:masters), for
	// the tests and kubectl; each component has its own in Kubeconfigs.
	Kubeconfig string
	// CertDir is the apiserver's --cert-dir; CA the cluster CA in it.
	CertDir string
	CA      *pki.CA
	// Kubeconfigs are the components' kubeconfigs by component name.
	Kubeconfigs map[string]string
	// AuditLog is the apiserver's --audit-log-path.
	AuditLog   string
	KubeletDir string
	// DNSAddr is tug-dns on the host's loopback (127.0.0.1:port); pods
	// reach the same server as the kube-dns Service 10.96.0.10, which the
	// proxy sends to the node's pod bridge address on DNSPort.
	DNSAddr string
	DNSPort int
	// BridgeIP is the node's pod bridge address (the first of its pod CIDR).
	BridgeIP string
	CS       *clientset.Set
	stopped  bool
	procs    map[string]*exec.Cmd
	logs     map[string]*os.File
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: must run as root (containerd, CNI, routes)")
		return 1
	}
	c, err := startCluster()
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cluster did not start:", err)
		if c != nil {
			c.dumpLogs()
		}
		return 1
	}
	cluster = c
	code := m.Run()
	if code != 0 {
		c.dumpLogs()
	}
	c.stop()
	if left := hostLeftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: left on the host after the cluster stopped:\n%s\n", strings.Join(left, "\n"))
		code = 1
	}
	return code
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no go.work above %s", dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() (*Cluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"bin/tug-apiserver", "bin/tug-scheduler", "bin/tug-controller-manager", "bin/tug-kubelet", "bin/tug-proxy", "bin/tug-dns", "bin/images/pause.tar", "bin/images/sise.tar", "bin/images/shell.tar"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return nil, fmt.Errorf("%s missing: run make build images first", f)
		}
	}
	dir, err := os.MkdirTemp("", "tugboat-e2e-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Root: root, KubeletDir: filepath.Join(dir, "kubelet"), procs: map[string]*exec.Cmd{}, logs: map[string]*os.File{}}
	apiPort, err := freePort()
	if err != nil {
		return c, err
	}
	c.APIAddr = fmt.Sprintf("127.0.0.1:%d", apiPort)
	etcdPort, err := freePort()
	if err != nil {
		return c, err
	}
	peerPort, err := freePort()
	if err != nil {
		return c, err
	}
	c.EtcdURL = fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	// The apiserver runs with its secure defaults: TLS from the cert dir
	// it creates on first start (named here explicitly), client
	// certificates, bootstrap tokens, Node,RBAC and the audit log.
	c.CertDir = filepath.Join(dir, "apiserver", "pki")
	c.AuditLog = filepath.Join(dir, "audit.log")
	if err := c.start("apiserver", "--listen-address", c.APIAddr, "--data-dir", filepath.Join(dir, "apiserver"), "--metrics-address", "127.0.0.1:0",
		"--etcd-client-url", c.EtcdURL, "--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--cert-dir", c.CertDir, "--audit-log-path", c.AuditLog); err != nil {
		return c, err
	}
	if err := c.waitAPIServer(); err != nil {
		return c, err
	}
	if err := c.writeKubeconfigs(); err != nil {
		return c, err
	}
	kc, err := config.Load(c.Kubeconfig, "")
	if err != nil {
		return c, err
	}
	conn, err := config.Dial(context.Background(), kc)
	if err != nil {
		return c, err
	}
	c.CS = clientset.New(conn)
	if err := c.start("scheduler", "--kubeconfig", c.Kubeconfigs["scheduler"], "--metrics-address", "127.0.0.1:0"); err != nil {
		return c, err
	}
	signing := pki.Dir(c.CertDir)
	if err := c.start("controller-manager", "--kubeconfig", c.Kubeconfigs["controller-manager"], "--metrics-address", "127.0.0.1:0",
		"--cluster-signing-cert-file", signing.CertPath(pki.CAName), "--cluster-signing-key-file", signing.KeyPath(pki.CAName)); err != nil {
		return c, err
	}
	if err := c.startKubelet(); err != nil {
		return c, err
	}
	if err := c.startServices(); err != nil {
		return c, err
	}
	return c, nil
}

// kubeletPort is fixed for the cluster's life so a restarted kubelet
// serves where the Node says.
var kubeletPort int

func (c *Cluster) startKubelet() error {
	if kubeletPort == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		kubeletPort = p
	}
	// The kubelet is system:node:e2e-node: the node authoriser lets it
	// read only what its pods use. It serves its API over TLS (a
	// self-signed pair under its root dir) to the apiserver's
	// kube-apiserver-kubelet-client certificate.
	if err := c.start("kubelet", "--kubeconfig", c.Kubeconfigs["kubelet"], "--node-name", NodeName, "--managed-containerd",
		"--root-dir", c.KubeletDir, "--image-archives", filepath.Join(c.Root, "bin/images"),
		"--port", fmt.Sprint(kubeletPort), "--metrics-address", "127.0.0.1:0", "--relist-period", "500ms", "--cluster-dns", dnsIP); err != nil {
		return err
	}
	return poll(60*time.Second, func() error {
		n, err := c.CS.Nodes().Get(context.Background(), &metav1.GetOptions{Name: NodeName})
		if err != nil {
			return err
		}
		if !nodeReady(n) {
			return fmt.Errorf("node %s not Ready", NodeName)
		}
		return nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// start runs bin/tug-<name> with its output in a log file.
func (c *Cluster) start(name string, args ...string) error {
	f, err := os.OpenFile(filepath.Join(c.Dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.Root, "bin", "tug-"+name), append(args, "--log-format", "console")...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	c.procs[name], c.logs[name] = cmd, f
	return nil
}

// stopProc sends SIGTERM and waits, then kills.
func (c *Cluster) stopProc(name string) {
	cmd := c.procs[name]
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	delete(c.procs, name)
	c.logs[name].Close()
}

// stop deletes the pods, stops the processes and removes what the kubelet
// made on the host (sandboxes, bridge, guard routes), then the files.
func (c *Cluster) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	if c.CS != nil && c.procs["kubelet"] != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		pods, err := c.CS.Pods().List(ctx, &metav1.ListOptions{})
		if err == nil {
			for _, p := range pods.GetItems() {
				_, _ = c.CS.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: p.GetMetadata().GetNamespace(), Name: p.GetMetadata().GetName(), GracePeriodSeconds: ptr(int32(1))})
			}
			_ = poll(30*time.Second, func() error {
				l, err := c.CS.Pods().List(ctx, &metav1.ListOptions{})
				if err != nil || len(l.GetItems()) > 0 {
					return fmt.Errorf("pods left")
				}
				return nil
			})
		}
		cancel()
	}
	for _, name := range []string{"kubelet", "proxy", "dns", "controller-manager", "scheduler", "apiserver"} {
		c.stopProc(name)
	}
	out, err := exec.Command(filepath.Join(c.Root, "bin/tug-kubelet"), "--cleanup", "--managed-containerd", "--root-dir", c.KubeletDir, "--log-format", "console").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: kubelet cleanup: %v\n%s\n", err, out)
	}
	c.cleanupProxy()
	killShims(c.KubeletDir)
	if os.Getenv("TUGBOAT_E2E_KEEP") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

// killShims kills containerd shims left by this cluster's containerd (their
// command line names its socket), by PID.
func killShims(dir string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "containerd-shim") || !strings.Contains(string(cmdline), dir) {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func (c *Cluster) dumpLogs() {
	for _, name := range []string{"apiserver", "scheduler", "controller-manager", "kubelet", "proxy", "dns"} {
		data, err := os.ReadFile(filepath.Join(c.Dir, name+".log"))
		if err != nil {
			continue
		}
		lines := strings.Split(string(data), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		fmt.Fprintf(os.Stderr, "=== last lines of %s.log\n%s\n", name, strings.Join(lines, "\n"))
	}
}

func ptr[T any](v T) *T { return &v }

// poll calls f until it returns nil or the timeout passes.
func poll(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
