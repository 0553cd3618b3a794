package integration

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
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
