//go:build e2e

// Package e2e runs the built tug (bin/tug) as a user would: tug up, seed
// 004's walk through pods with the project's images (first-pod through tug
// run, second-pod, specific-pod-node, pod-label), then tug down, checking
// what each command prints. Root, a real containerd; run it with
// `make test-e2e` (after `make deps build images`) under the real-node lock.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// cluster is the tug up every test shares.
type cluster struct {
	root, tug, images   string
	dataDir, kubeconfig string
	apiAddr             string
	kubeletPort         int
	node                string
	manifests           string
}

var c *cluster

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cli e2e: must run as root (tug up runs containers)")
		os.Exit(1)
	}
	var err error
	c, err = newCluster()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	// Whatever happened, leave nothing behind.
	if out, err := exec.Command(c.tug, "down", "--data-dir", c.dataDir, "--purge").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "cli e2e: final tug down: %v\n%s", err, out)
		code = 1
	}
	if code != 0 {
		if b, err := os.ReadFile(filepath.Join(c.dataDir, "tug.log")); err == nil {
			fmt.Fprintf(os.Stderr, "--- tug.log (last 8 KiB) ---\n%s\n", lastBytes(b, 8<<10))
		}
	}
	os.RemoveAll(filepath.Dir(c.dataDir))
	os.Exit(code)
}

func newCluster() (*cluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	cl := &cluster{root: root, tug: filepath.Join(root, "bin/tug"), images: filepath.Join(root, "bin/images"), node: "tug-e2e"}
	for _, f := range []string{cl.tug, filepath.Join(cl.images, "sise.tar")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s missing: run make build images first", f)
		}
	}
	dir, err := os.MkdirTemp("", "tug-e2e-")
	if err != nil {
		return nil, err
	}
	cl.dataDir = filepath.Join(dir, "data")
	cl.kubeconfig = filepath.Join(dir, "kube", "config")
	cl.manifests = filepath.Join(dir, "manifests")
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cl.apiAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	cl.kubeletPort = ports[1]
	return cl, cl.writeManifests()
}

// seedImages are seed 004's public images and the project's stand-ins.
var seedImages = strings.NewReplacer("mhausenblas/simpleservice:0.5.0", "tugboat.local/sise:0.5.0", "centos:7", "tugboat.local/shell:latest")

// writeManifests copies seed 004's pod manifests with the project's images,
// as a user edits a manifest from a web page.
func (cl *cluster) writeManifests() error {
	if err := os.MkdirAll(cl.manifests, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"second-pod.yaml", "specific-pod-node.yaml", "pod-label.yaml", "deployment-09-v0.9.yaml", "deployment-09-v1.0.yaml",
		"deployment-for-service.yaml", "service-for-pods.yaml"} {
		data, err := os.ReadFile(filepath.Join(cl.root, "machinery/manifest/testdata/seed004", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cl.manifests, f), []byte(seedImages.Replace(string(data))), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (cl *cluster) upArgs() []string {
	return []string{"up", "--data-dir", cl.dataDir, "--kubeconfig", cl.kubeconfig, "--listen-address", cl.apiAddr,
		"--kubelet-port", fmt.Sprint(cl.kubeletPort), "--node-name", cl.node, "--images", cl.images}
}

// run is one tug command's output and exit code.
type run struct {
	out, err string
	code     int
}

// tug runs bin/tug with the cluster's kubeconfig, stdin from in.
func tug(t *testing.T, in string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.tug, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	cmd.Stdin = strings.NewReader(in)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("tug %s: %v", strings.Join(args, " "), err)
	}
	return run{out: out.String(), err: errOut.String(), code: code}
}

// runTug runs bin/tug and returns its combined output.
func runTug(args ...string) ([]byte, error) {
	cmd := exec.Command(c.tug, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.kubeconfig)
	return cmd.CombinedOutput()
}

// ok runs tug and fails the test unless it exits 0.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := tug(t, "", args...)
	if r.code != 0 {
		t.Fatalf("tug %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// waitFor polls `tug args` until match finds its output, or fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, match *regexp.Regexp, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := tug(t, "", args...)
		if r.code == 0 && match.MatchString(r.out) {
			return r.out
		}
		if time.Now().After(deadline) {
			t.Fatalf("tug %s did not print %q within %v; last:\n%s%s", strings.Join(args, " "), match, timeout, r.out, r.err)
		}
		time.Sleep(250 * time.Millisecond)
	}
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

// freePorts picks n free ports below the kernel's ephemeral range
// (32768 and up) and the NodePort range (30000-32767): the suite binds them
// again in every tug up for minutes, and a port of the ephemeral range can
// meanwhile become the local port of some outgoing connection, which makes
// the next bind fail with "address already in use".
func freePorts(n int) ([]int, error) {
	var out []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("no %d free ports in 20000-29999 after %d tries", n, tries)
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(10000)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
