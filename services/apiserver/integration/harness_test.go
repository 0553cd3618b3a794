package integration

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
)

// startTimeout bounds how long a server may take to become ready.
const startTimeout = 60 * time.Second

// options choose how a test server runs.
type options struct {
	// dataDir is the embedded etcd's data dir; empty means a new t.TempDir().
	dataDir string
	// etcdServers are external etcd endpoints; empty means embedded etcd.
	etcdServers []string
	// etcdTLS is the external etcd's CA and the client pair given as
	// --etcd-cafile, --etcd-certfile, --etcd-keyfile; nil is plaintext.
	etcdTLS *pki.EtcdFiles
	// bookmarkInterval is Config.BookmarkInterval; 0 keeps the default.
	bookmarkInterval time.Duration
	// objectCountInterval is Config.ObjectCountInterval; 0 keeps the default.
	objectCountInterval time.Duration
	// metricsAddress is Config.MetricsAddress.
	metricsAddress string
	// insecure runs the server with --insecure (plaintext, no
	// authentication, AlwaysAllow), for the tests of --insecure itself.
	// Otherwise the server runs on the secure defaults: TLS from the cert
	// dir under the data dir, client certificates, bootstrap tokens and
	// Node,RBAC; the server's clients are then a system:masters admin
	// with a client certificate (secure_test.go).
	insecure bool
	// logCore, when set, also gets the server's log lines (all levels).
	logCore zapcore.Core
	// tokenFile is --token-auth-file.
	tokenFile string
	// noAnonymous is --anonymous-auth=false: even the public requests
	// need credentials.
	noAnonymous bool
	// connectionReadTimeout is Config.ConnectionReadTimeout; 0 keeps the default.
	connectionReadTimeout time.Duration
	// kubeletCA is --kubelet-certificate-authority.
	kubeletCA string
	// kubeletServing is the fake kubelet's serving certificate
	// (startStreamsWith); nil makes a self-signed one.
	kubeletServing *tls.Certificate
	// advertiseAddress is --advertise-address.
	advertiseAddress string
	// serviceCIDR and nodePorts are the Service ranges; empty keeps the defaults.
	serviceCIDR, nodePorts string
	// serviceRepairInterval is Config.ServiceRepairInterval; 0 keeps the default.
	serviceRepairInterval time.Duration
	// kubernetesServiceInterval is Config.KubernetesServiceInterval; 0 keeps the default.
	kubernetesServiceInterval time.Duration
}

// server is one running apiserver.
type server struct {
	t       *testing.T
	addr    string // host:port serving gRPC and REST
	base    string // http://addr
	dataDir string
	etcdURL string // the etcd client URL the apiserver uses
	cs      *clientset.Set
	conn    *grpc.ClientConn
	http    *http.Client

	// ca is the cluster CA (nil with --insecure).
	ca *pki.CA
	// admin is the admin's client certificate (system:masters).
	admin creds

	etcdOnce   sync.Once
	etcdClient *clientv3.Client
	etcdTLS    *pki.EtcdFiles // the embedded etcd's certificates; nil is plaintext

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan error
	logs     *testSink
}

// start runs app.Run in-process on 127.0.0.1:0, waits until /readyz answers
// 200 and stops the server on t.Cleanup.
func start(t *testing.T, o options) *server {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	s := &server{t: t, dataDir: o.dataDir, done: make(chan error, 1), logs: &testSink{t: t}}
	cfg := app.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = o.dataDir
	cfg.UnsafeNoFsync = true
	cfg.CompactionInterval = 0 // tests compact explicitly
	cfg.MetricsAddress = o.metricsAddress
	cfg.AdvertiseAddress = o.advertiseAddress
	cfg.ConnectionReadTimeout = o.connectionReadTimeout
	cfg.Security.KubeletCAFile = o.kubeletCA
	if o.serviceCIDR != "" {
		cfg.ServiceClusterIPRange = o.serviceCIDR
	}
	if o.serviceRepairInterval > 0 {
		cfg.ServiceRepairInterval = o.serviceRepairInterval
	}
	if o.kubernetesServiceInterval > 0 {
		cfg.KubernetesServiceInterval = o.kubernetesServiceInterval
	}
	if o.nodePorts != "" {
		cfg.ServiceNodePortRange = o.nodePorts
	}
	if o.bookmarkInterval > 0 {
		cfg.BookmarkInterval = o.bookmarkInterval
	}
	if o.objectCountInterval > 0 {
		cfg.ObjectCountInterval = o.objectCountInterval
	}
	if o.insecure {
		cfg.Security.Insecure = true
	} else {
		cfg.Security.TokenAuthFile = o.tokenFile
		cfg.Security.AnonymousAuth = !o.noAnonymous
	}
	if len(o.etcdServers) > 0 {
		cfg.EtcdServers = o.etcdServers
		s.etcdURL = o.etcdServers[0]
		if o.etcdTLS != nil {
			cfg.EtcdCAFile, cfg.EtcdCertFile, cfg.EtcdKeyFile = o.etcdTLS.CAFile, o.etcdTLS.ClientCertFile, o.etcdTLS.ClientKeyFile
			s.etcdTLS = o.etcdTLS
		}
	} else {
		// The embedded etcd serves TLS with client certificates unless
		// --insecure; etcd() reads it with the apiserver's client pair.
		scheme := "https://"
		if o.insecure {
			scheme = "http://"
		} else {
			files := pki.Dir(filepath.Join(o.dataDir, "pki")).EtcdPaths()
			s.etcdTLS = &files
		}
		cfg.EtcdClientURL = scheme + freeAddr(t)
		cfg.EtcdPeerURL = scheme + freeAddr(t)
		s.etcdURL = cfg.EtcdClientURL
	}
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), s.logs, zap.WarnLevel)
	if o.logCore != nil {
		core = zapcore.NewTee(core, o.logCore)
	}
	log := zap.New(core)

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- app.Run(ctx, cfg, log) }()
	t.Cleanup(s.stop)

	select {
	case a := <-ready:
		s.addr = a.String()
	case err := <-s.done:
		s.done <- err
		t.Fatalf("apiserver exited before it was ready: %v", err)
	case <-time.After(startTimeout):
		t.Fatalf("apiserver did not report its address within %v", startTimeout)
	}
	s.base = "http://" + s.addr
	s.http = &http.Client{Timeout: 30 * time.Second}
	clientCfg := &config.Config{Server: s.base}
	if !o.insecure {
		clientCfg = s.secureClients(t, filepath.Join(o.dataDir, "pki"))
	}
	s.waitReady(t)

	conn, err := config.Dial(context.Background(), clientCfg,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		t.Fatalf("dial apiserver: %v", err)
	}
	s.conn = conn
	s.cs = clientset.New(conn)
	return s
}

// waitReady polls /readyz until it answers 200, with a deadline.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	var last string
	ok := poll(startTimeout, func() bool {
		resp, err := s.http.Get(s.base + "/readyz")
		if err != nil {
			last = err.Error()
			return false
		}
		_ = resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		t.Fatalf("apiserver at %s not ready within %v: last answer %s", s.addr, startTimeout, last)
	}
}

// stop cancels Run and waits for it to return; it is idempotent.
func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.conn != nil {
			_ = s.conn.Close()
		}
		if s.etcdClient != nil {
			_ = s.etcdClient.Close()
		}
		if s.http != nil {
			s.http.CloseIdleConnections()
		}
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				s.t.Errorf("apiserver Run returned an error on shutdown: %v", err)
			}
		case <-time.After(30 * time.Second):
			s.t.Errorf("apiserver Run did not return within 30s of cancel")
		}
		s.logs.close()
	})
}

// etcd returns a client of the etcd the apiserver uses.
func (s *server) etcd(t *testing.T) *clientv3.Client {
	t.Helper()
	s.etcdOnce.Do(func() {
		var tlsCfg *tls.Config
		if s.etcdTLS != nil {
			var err error
			if tlsCfg, err = etcd.ClientTLS(*s.etcdTLS); err != nil {
				t.Fatalf("etcd client TLS: %v", err)
			}
		}
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{s.etcdURL},
			DialTimeout: 10 * time.Second,
			Logger:      zap.NewNop(),
			TLS:         tlsCfg,
		})
		if err != nil {
			t.Fatalf("etcd client for %s: %v", s.etcdURL, err)
		}
		s.etcdClient = c
	})
	return s.etcdClient
}

// etcdState is the number of keys under /registry/ and etcd's revision: if
// neither moved, nothing was written.
type etcdState struct{ keys, revision int64 }

func (s *server) etcdState(t *testing.T) etcdState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.etcd(t).Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("count etcd keys: %v", err)
	}
	return etcdState{keys: resp.Count, revision: resp.Header.Revision}
}

// compact compacts etcd's history up to its current revision and returns it.
func (s *server) compact(t *testing.T) int64 {
	t.Helper()
	rev := s.etcdState(t).revision
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.etcd(t).Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact etcd to %d: %v", rev, err)
	}
	return rev
}

// ctx returns a context bounded for one test step.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// poll calls cond every 20ms until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testSink writes the server's warnings to the test log until the server
// has stopped; later lines (none are expected) are dropped rather than
// logged after the test ended.
type testSink struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testSink) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Logf("apiserver: %s", p)
	}
	return len(p), nil
}

func (w *testSink) Sync() error { return nil }

func (w *testSink) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
