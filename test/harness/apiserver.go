package harness

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// maxMessageBytes lets test clients send and receive large lists.
const maxMessageBytes = 64 << 20

// APIServer is an apiserver running in the test's process.
type APIServer struct {
	// Addr is the host:port serving gRPC and REST.
	Addr string
	// URL is http://Addr.
	URL string
	// Kubeconfig is the path of a kubeconfig file for the server, to
	// hand to the components a test starts.
	Kubeconfig string
	// Client talks to the server over one gRPC connection.
	Client *clientset.Set
	// DataDir holds the embedded etcd's data.
	DataDir string
	// Fsync reports whether the embedded etcd syncs its writes to disk:
	// false, the harness trades durability for speed (etcd's
	// --unsafe-no-fsync). Benchmarks say so next to their figures.
	Fsync bool
}

// StartAPIServer runs the apiserver on 127.0.0.1 at a free port with an
// embedded etcd in t.TempDir(), waits until /readyz answers 200, writes a
// kubeconfig for it and dials it. Everything stops on t.Cleanup.
func StartAPIServer(t testing.TB) *APIServer {
	t.Helper()
	s := &APIServer{DataDir: t.TempDir()}
	cfg := app.DefaultConfig()
	cfg.ListenAddress = "127.0.0.1:0"
	cfg.DataDir = s.DataDir
	cfg.UnsafeNoFsync = true
	s.Fsync = !cfg.UnsafeNoFsync
	cfg.CompactionInterval = 0
	ready := make(chan net.Addr, 1)
	cfg.OnReady = func(a net.Addr) { ready <- a }
	c := run(t, "apiserver", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })

	select {
	case a := <-ready:
		s.Addr = a.String()
	case err := <-c.done:
		c.done <- err
		t.Fatalf("apiserver exited before it was ready: %v", err)
	case <-time.After(StartTimeout):
		t.Fatalf("apiserver did not report its address within %v", StartTimeout)
	}
	s.URL = "http://" + s.Addr
	waitHTTPReady(t, s.URL+"/readyz")

	s.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := config.Write(s.Kubeconfig, config.KubeconfigSpec{Server: s.URL}); err != nil {
		t.Fatal(err)
	}
	kc, err := config.Load(s.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(context.Background(), kc,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		t.Fatalf("dial apiserver: %v", err)
	}
	// Registered after the server's own cleanup, so it runs before it.
	t.Cleanup(func() { _ = conn.Close() })
	s.Client = clientset.New(conn)
	return s
}

// waitHTTPReady polls url until it answers 200.
func waitHTTPReady(t testing.TB, url string) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	Poll(t, StartTimeout, "GET "+url+" answers 200", func() (bool, string) {
		resp, err := hc.Get(url)
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}
