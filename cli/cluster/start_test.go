package cluster

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// joinLine is contract 5's join line.
var joinLine = regexp.MustCompile(`^tug join (127\.0\.0\.1:\d+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})$`)

// TestInit runs tug init's process (Run with Init) in this process on a
// temporary data dir: the control plane on TLS, each component with its
// own certificate. It checks what tug init promises: the join line, the
// token, the signed cluster-info, the admin kubeconfig, 401 without a
// client certificate, and that the apiserver used the certificates the
// init phases wrote.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	c := DefaultConfig()
	c.Init = true
	c.DataDir = filepath.Join(dir, "data")
	c.Kubeconfig = filepath.Join(dir, "kube", "config")
	c.ListenAddress = freeAddr(t)
	c.TokenTTL = 2 * time.Hour
	// The data dir once ran tug up: its node kubeconfig is stale.
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.writeMode(ModeUp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.conf(KubeletConf), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed []string
	c.OnJoinCommand = func(l string) { printed = append(printed, l) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, c, zap.NewNop()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	since := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 90*time.Second)
	defer wcancel()
	line, err := waitReady(wctx, c, since)
	if err != nil {
		t.Fatalf("the control plane did not come up: %v", err)
	}

	ca, err := pki.Dir(c.certDir()).Load(pki.CAName)
	if err != nil {
		t.Fatal(err)
	}
	var tok bootstraptoken.Token
	t.Run("mode", func(t *testing.T) {
		if _, err := os.Stat(c.conf(KubeletConf)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the stale %s is still there: %v", KubeletConf, err)
		}
		if m, node := c.Mode(), c.RunsNode(); m != ModeInit || node {
			t.Errorf("Mode, RunsNode = %q, %v; want init, false", m, node)
		}
	})
	t.Run("join line", func(t *testing.T) {
		m := joinLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("join line %q does not match %s", line, joinLine)
		}
		if m[1] != c.ListenAddress {
			t.Errorf("join line's address %s, want %s", m[1], c.ListenAddress)
		}
		if m[3] != pki.Hash(ca.Cert) {
			t.Errorf("join line's hash %s, the CA's %s", m[3], pki.Hash(ca.Cert))
		}
		if tok, err = bootstraptoken.Parse(m[2]); err != nil {
			t.Fatal(err)
		}
		if len(printed) != 1 || printed[0] != line {
			t.Errorf("OnJoinCommand got %q, want the join line once", printed)
		}
	})
	admin := dial(t, c.AdminKubeconfig())
	t.Run("token", func(t *testing.T) {
		s, err := admin.Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: tok.SecretName()})
		if err != nil {
			t.Fatalf("the join line's token: %v", err)
		}
		info, err := bootstraptoken.FromSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		if left := time.Until(info.Expires); left > c.TokenTTL || left < c.TokenTTL-time.Minute {
			t.Errorf("token expires in %v, want --token-ttl %v", left, c.TokenTTL)
		}
	})
	t.Run("identities", func(t *testing.T) {
		for _, id := range Identities("") {
			kc, err := config.Load(c.conf(id.File), "")
			if err != nil {
				t.Fatal(err)
			}
			cert, err := pki.ParseCert(kc.CertData)
			if err != nil || cert.Subject.CommonName != id.User {
				t.Errorf("%s: user %v (%v), want %s", id.File, cert.Subject.CommonName, err, id.User)
			}
			if fi, err := os.Stat(c.conf(id.File)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v (%v), want 0600", id.File, fi.Mode().Perm(), err)
			}
		}
		if _, err := os.Stat(c.conf(KubeletConf)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("tug init wrote a kubelet.conf (%v)", err)
		}
	})
	t.Run("user kubeconfig", func(t *testing.T) {
		user := dial(t, c.Kubeconfig)
		if _, err := user.Namespaces().Get(ctx, &metav1.GetOptions{Name: "kube-system"}); err != nil {
			t.Errorf("the merged kubeconfig: %v", err)
		}
		kc, err := config.Load(c.Kubeconfig, "tugboat")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(kc.Server, "https://") || len(kc.CAData) == 0 || len(kc.CertData) == 0 {
			t.Fatalf("merged context: server %s, %d bytes of CA, %d of certificate", kc.Server, len(kc.CAData), len(kc.CertData))
		}
		kc.CertData, kc.KeyData = nil, nil
		conn, err := config.Dial(ctx, kc)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = clientset.New(conn).Pods().List(ctx, &metav1.ListOptions{Namespace: "default"})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("without the client certificate: %v, want Unauthenticated", err)
		}
	})
	t.Run("apiserver used the phases' certificates", func(t *testing.T) {
		// Certs again (what the apiserver loads at its start) keeps them.
		before, err := pki.Dir(c.certDir()).Load(pki.APIServerName)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Certs(CertsOptions{CertDir: c.certDir(), ExtraSANs: c.extraSANs()}); err != nil {
			t.Fatal(err)
		}
		after, err := pki.Dir(c.certDir()).Load(pki.APIServerName)
		if err != nil {
			t.Fatal(err)
		}
		if before.Cert.SerialNumber.Cmp(after.Cert.SerialNumber) != 0 {
			t.Errorf("the serving certificate was reissued")
		}
	})
	t.Run("dns publishes its service", func(t *testing.T) {
		dnsc := dial(t, c.conf(DNSConf))
		svc := func(ns, name string) *corev1.Service {
			return &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Name: "dns", Port: 53, Protocol: "UDP"}}}}
		}
		if _, err := dnsc.Services().Create(ctx, svc("kube-system", "kube-dns")); err != nil {
			t.Errorf("system:kube-dns creates kube-system/kube-dns: %v", err)
		}
		// It is the DNS, not the admin.
		if _, err := dnsc.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "dns-made"}}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("system:kube-dns creates a namespace: %v, want PermissionDenied", err)
		}
	})
	t.Run("wait node ready", func(t *testing.T) { waitNodeReadyWatchesForAFreshReady(t, admin) })
}

// waitNodeReadyWatchesForAFreshReady makes a node Ready with a stale
// heartbeat (a kubelet of an earlier run) and then a fresh one:
// waitNodeReady returns only after the fresh one.
func waitNodeReadyWatchesForAFreshReady(t *testing.T, cs *clientset.Set) {
	since := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nodes := cs.Nodes()
	const name = "wait-node"
	done := make(chan error, 1)
	go func() { done <- waitNodeReady(ctx, nodes, name, since) }()
	n, err := nodes.Create(ctx, &corev1.Node{Metadata: &metav1.ObjectMeta{Name: name}})
	if err != nil {
		t.Fatalf("create node: %v", err)
	}
	// The controller-manager writes the node too (its pod CIDR): on a
	// conflict, read it again.
	setReady := func(n *corev1.Node, heartbeat time.Time) *corev1.Node {
		t.Helper()
		for {
			n.Status = &corev1.NodeStatus{Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", LastHeartbeatTime: timestamppb.New(heartbeat)}}}
			updated, err := nodes.UpdateStatus(ctx, n)
			if err == nil {
				return updated
			}
			if status.Code(err) != codes.Aborted {
				t.Fatalf("update node status: %v", err)
			}
			if n, err = nodes.Get(ctx, &metav1.GetOptions{Name: n.GetMetadata().GetName()}); err != nil {
				t.Fatalf("get node: %v", err)
			}
		}
	}
	n = setReady(n, since.Add(-time.Hour))
	// The stale Ready is stored; waitNodeReady, which may have seen it,
	// must still be waiting.
	got, err := nodes.Get(ctx, &metav1.GetOptions{Name: name})
	if err != nil || !nodeReady(got, since.Add(-2*time.Hour)) || nodeReady(got, since) {
		t.Fatalf("get node: %v %v; want it Ready with the stale heartbeat", got, err)
	}
	select {
	case err := <-done:
		t.Fatalf("waitNodeReady returned on a stale heartbeat: %v", err)
	default:
	}
	setReady(n, time.Now())
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("waitNodeReady: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waitNodeReady did not return within 30s of the node being Ready")
	}
}

func TestWaitReadyEndsWithItsContext(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = t.TempDir() // no join line: the cluster never comes up
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := waitReady(ctx, c, time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waitReady = %v, want %v", err, context.DeadlineExceeded)
	}
}

// dial connects with the kubeconfig at path; it closes on cleanup.
func dial(t *testing.T, path string) *clientset.Set {
	t.Helper()
	kc, err := config.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(context.Background(), kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return clientset.New(conn)
}

// freeAddr is a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
