package command

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/cli/cluster"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
	controllermanager "github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"go.uber.org/zap"
)

// kubeconfig reaches the apiserver TestMain runs in this process, as the
// admin (kubernetes-admin, system:masters); confDir holds the other
// identities' kubeconfigs and certDir the cluster CA.
var kubeconfig, confDir, certDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts an apiserver on embedded etcd in a temporary directory, on
// a free loopback port, secure as tug init runs it (TLS from a cert dir
// the init phases wrote, client certificates, bootstrap tokens,
// Node,RBAC), and writes the admin's and the components' kubeconfigs.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tug-command-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	addr := l.Addr().String()
	l.Close()
	certDir = filepath.Join(dir, "pki")
	confDir = filepath.Join(dir, "conf")
	if _, err := cluster.Certs(cluster.CertsOptions{CertDir: certDir}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := cluster.Kubeconfigs(certDir, "https://"+addr, confDir, cluster.Identities("")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kubeconfig = filepath.Join(confDir, cluster.AdminConf)
	cfg := apiserver.DefaultConfig()
	cfg.ListenAddress = addr
	cfg.DataDir = filepath.Join(dir, "etcd")
	cfg.UnsafeNoFsync = true
	cfg.Security.CertDir = certDir
	cfg.Security.AuthorizationModes = []string{apiserver.ModeNode, apiserver.ModeRBAC}
	cfg.Security.BootstrapTokenAuth = true
	cfg.Security.AnonymousAuth = true
	cfg.Security.AuditLogPath = "none"
	ready := make(chan struct{})
	cfg.OnReady = func(net.Addr) { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- apiserver.Run(ctx, cfg, zap.NewNop()) }()
	select {
	case <-ready:
	case err := <-done:
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		cancel()
		return 1
	case <-time.After(60 * time.Second):
		fmt.Fprintln(os.Stderr, "apiserver not ready after 60s")
		cancel()
		return 1
	}
	code := m.Run()
	stopControllers()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		return 1
	}
	return code
}

var (
	controllersOnce sync.Once
	stopControllers = func() {}
	controllersErr  error
)

// controllers runs a controller-manager against the test apiserver, once
// for the tests that need one (ReplicaSets, rollouts); it stops after
// them all. No kubelet runs, so pods are made but never ready.
func controllers(t *testing.T) {
	t.Helper()
	controllersOnce.Do(func() {
		cfg := controllermanager.DefaultConfig()
		cfg.Kubeconfig = filepath.Join(confDir, cluster.ControllerManagerConf)
		cfg.MetricsAddress = ""
		ready := make(chan struct{})
		var once sync.Once
		cfg.OnReady = func() { once.Do(func() { close(ready) }) }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- controllermanager.Run(ctx, cfg, zap.NewNop()) }()
		stopControllers = func() { cancel(); <-done }
		select {
		case <-ready:
		case err := <-done:
			controllersErr = fmt.Errorf("controller-manager exited: %v", err)
			done <- err
		case <-time.After(30 * time.Second):
			controllersErr = fmt.Errorf("controller-manager not ready after 30s")
		}
	})
	if controllersErr != nil {
		t.Fatal(controllersErr)
	}
}

// result is what one tug command printed and its exit code.
type result struct {
	out, err string
	code     int
}

// tug runs the command line in this process against the test apiserver.
func tug(t *testing.T, args ...string) result {
	t.Helper()
	return tugIn(t, "", args...)
}

func tugIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"--kubeconfig", kubeconfig}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{out: out.String(), err: errOut.String(), code: code}
}

// ok runs tug and fails the test unless it succeeds.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := tug(t, args...)
	if r.code != 0 {
		t.Fatalf("tug %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

// namespace creates a namespace for one test.
func namespace(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	r := tugIn(t, fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, name), "create", "-f", "-")
	if r.code != 0 {
		t.Fatalf("create namespace %s: %s", name, r.err)
	}
	return name
}

// rows returns the first column of a table's rows.
func rows(table string) []string {
	var out []string
	for i, l := range strings.Split(strings.TrimSpace(table), "\n") {
		if i == 0 || l == "" {
			continue
		}
		out = append(out, strings.Fields(l)[0])
	}
	return out
}
