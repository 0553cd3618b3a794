package stream

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
)

// mapLocator finds containers in a map keyed "namespace/pod/container"
// (with "/previous" for the previous instance).
type mapLocator struct {
	mu sync.Mutex
	m  map[string]Container
}

func (l *mapLocator) Container(namespace, pod, container string, previous bool) (Container, error) {
	key := namespace + "/" + pod + "/" + container
	if previous {
		key += "/previous"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.m[key]
	if !ok {
		return Container{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return c, nil
}

// serve runs s on an in-memory listener and returns a client to it.
func serve(t *testing.T, s *Server) kubeletv1.KubeletServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	kubeletv1.RegisterKubeletServiceServer(gs, s)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return kubeletv1.NewKubeletServiceClient(conn)
}

// newTestServer is a Server whose followed logs poll every few milliseconds.
func newTestServer(t *testing.T, rt runtimeapi.RuntimeServiceClient, loc Locator) *Server {
	s := New(rt, loc, testLogger(t))
	s.pollInterval = 5 * time.Millisecond
	s.statusInterval = 10 * time.Millisecond
	return s
}

// readLog runs Log and returns everything it sent, the number of chunks
// and the error that ended it (nil for a clean end).
func readLog(ctx context.Context, c kubeletv1.KubeletServiceClient, req *corev1.PodLogOptions) (string, int, error) {
	st, err := c.Log(ctx, req)
	if err != nil {
		return "", 0, err
	}
	var out []byte
	n := 0
	for {
		chunk, err := st.Recv()
		if err == io.EOF {
			return string(out), n, nil
		}
		if err != nil {
			return string(out), n, err
		}
		n++
		out = append(out, chunk.GetData()...)
	}
}

func testLogger(t *testing.T) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.DebugLevel)) }

func ptr[T any](v T) *T { return &v }
