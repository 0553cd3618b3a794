package fakeruntime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// SocketName is the file Listen creates in its directory.
const SocketName = "fake.sock"

// MemoryEndpoint is the endpoint to dial a ListenMemory listener with its
// Dialer: the passthrough scheme hands the name to the dialer unresolved.
const MemoryEndpoint = "passthrough:///fakeruntime"

// memoryBuffer is the size of each direction of an in-memory connection.
// gRPC frames are at most 16 KiB by default; a small buffer keeps a
// thousand hollow nodes cheap.
const memoryBuffer = 16 << 10

// Dialer dials an in-memory listener; pass it to grpc.WithContextDialer.
type Dialer func(ctx context.Context, addr string) (net.Conn, error)

// NewServer returns a gRPC server with the runtime and image services of r
// registered; the caller serves it on a listener and stops it.
func (r *Runtime) NewServer(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	runtimeapi.RegisterRuntimeServiceServer(s, r)
	runtimeapi.RegisterImageServiceServer(s, r)
	return s
}

// Serve serves r on lis until ctx ends, then stops the server, closing open
// connections and streams. It returns nil after ctx ends, otherwise the
// error that stopped serving. lis is closed on return.
func (r *Runtime) Serve(ctx context.Context, lis net.Listener) error {
	s := r.NewServer()
	unwatch := context.AfterFunc(ctx, s.Stop) // no goroutine until ctx ends
	err := s.Serve(lis)
	if !unwatch() {
		return nil
	}
	s.Stop()
	return err
}

// Listen creates a unix socket DIR/fake.sock (removing a stale one) and
// returns it with the endpoint a kubelet dials: "unix:///abs/dir/fake.sock".
func Listen(dir string) (lis net.Listener, endpoint string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("fakeruntime: listen in %q: %w", dir, err)
	}
	path := filepath.Join(abs, SocketName)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("fakeruntime: remove stale socket: %w", err)
	}
	lis, err = net.Listen("unix", path)
	if err != nil {
		return nil, "", fmt.Errorf("fakeruntime: %w", err)
	}
	return lis, "unix://" + path, nil
}

// ListenMemory returns an in-process listener, the endpoint to dial
// (MemoryEndpoint) and the Dialer that reaches the listener, so many
// runtimes in one process need no sockets:
//
//	lis, endpoint, dial := fakeruntime.ListenMemory()
//	go rt.Serve(ctx, lis)
//	conn, err := grpc.NewClient(endpoint, grpc.WithContextDialer(dial),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))
func ListenMemory() (lis net.Listener, endpoint string, dial Dialer) {
	l := bufconn.Listen(memoryBuffer)
	return l, MemoryEndpoint, func(ctx context.Context, _ string) (net.Conn, error) {
		return l.DialContext(ctx)
	}
}
