package integration

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/connectivity"
)

// TestIdleConnectionDropped: a connection that sends nothing (not even a
// TLS ClientHello) is closed by the server after the connection read
// timeout, plaintext or TLS, instead of holding a goroutine forever.
func TestIdleConnectionDropped(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	for _, tt := range []struct {
		name string
		o    options
	}{
		{"TLS", options{connectionReadTimeout: timeout}},
		{"insecure", options{insecure: true, connectionReadTimeout: timeout}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.o)
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Generous: the server must close well before this.
			if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			n, err := io.Copy(io.Discard, conn)
			if errors.Is(err, os.ErrDeadlineExceeded) || time.Since(begin) > 5*time.Second {
				t.Fatalf("the server kept an idle connection open for %v (read timeout %v)", time.Since(begin), timeout)
			}
			t.Logf("closed after %v (%d bytes, %v)", time.Since(begin), n, err)
		})
	}
}

// TestIdleGRPCConnectionKept: a gRPC client that connects (its HTTP/2
// preface sent at once) and makes its first call only after the read
// timeout keeps its connection: the timeout is for connections that send
// nothing at all.
func TestIdleGRPCConnectionKept(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	s := start(t, options{connectionReadTimeout: timeout})
	conn, err := config.Dial(ctx(t), s.clientConfig(s.admin))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Connect()
	if !poll(10*time.Second, func() bool { return conn.GetState() == connectivity.Ready }) {
		t.Fatalf("connection state %v, want Ready", conn.GetState())
	}
	// Watch the connection for five read timeouts without a call on it.
	c, cancel := context.WithTimeout(context.Background(), 5*timeout)
	defer cancel()
	if conn.WaitForStateChange(c, connectivity.Ready) {
		t.Fatalf("an idle gRPC connection went from Ready to %v within %v", conn.GetState(), 5*timeout)
	}
	if _, err := clientset.New(conn).Namespaces().Get(ctx(t), &metav1.GetOptions{Name: "default"}); err != nil {
		t.Fatalf("first call after the idle time: %v", err)
	}
}
