// Package harness runs Tugboat's components in the test's own process,
// each through its app package exactly as its binary does, so that
// integration tests exercise the real gRPC paths between them:
// StartAPIServer (embedded etcd in a temporary directory, a random port),
// then the components a test needs, such as StartScheduler. Everything
// started is stopped on t.Cleanup, and a component that fails to stop
// fails the test.
//
// The apiserver runs secure (TLS, client certificates, Node,RBAC); each
// component connects with its own identity, a client certificate from
// api.KubeconfigFor (the scheduler as system:kube-scheduler, and so on),
// so its default RBAC role is what the tests exercise.
//
// To add a component, write StartX(t, api, opts) in its own file: build
// its app.Config with a kubeconfig from api.KubeconfigFor for its user,
// run app.Run in a goroutine through run, and wait for its readiness.
package harness

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// StartTimeout bounds how long a component may take to become ready.
const StartTimeout = 60 * time.Second

// stopTimeout bounds how long a component may take to stop.
const stopTimeout = 30 * time.Second

// component is one app.Run running in a goroutine.
type component struct {
	name   string
	cancel context.CancelFunc
	done   chan error
	logs   *sink
	once   sync.Once
}

// run starts fn in a goroutine with a context that t.Cleanup cancels; on
// cleanup it waits for fn to return and reports an error it returns. Its
// goroutines carry the profiler label component=name.
func run(t testing.TB, name string, fn func(ctx context.Context, log *zap.Logger) error) *component {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &component{name: name, cancel: cancel, done: make(chan error, 1), logs: &sink{t: t, name: name}}
	go func() {
		// Every goroutine the component starts inherits the label, so a
		// CPU profile of an in-process cluster splits by component
		// (go tool pprof -tagfocus component=scheduler).
		pprof.Do(ctx, pprof.Labels("component", name), func(ctx context.Context) {
			c.done <- fn(ctx, c.logs.logger())
		})
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the component and waits for it; it is idempotent.
func (c *component) stop(t testing.TB) {
	c.once.Do(func() {
		c.cancel()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("%s returned an error on shutdown: %v", c.name, err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("%s did not stop within %v of cancel", c.name, stopTimeout)
		}
		c.logs.close()
	})
}

// sink writes a component's warnings and errors to the test log until
// the component has stopped; later lines are dropped, since logging after
// a test ends panics.
type sink struct {
	mu     sync.Mutex
	t      testing.TB
	name   string
	closed bool
}

func (s *sink) logger() *zap.Logger {
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), s, zap.WarnLevel))
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.t.Logf("%s: %s", s.name, p)
	}
	return len(p), nil
}

func (s *sink) Sync() error { return nil }

func (s *sink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}

// signalReady wraps a component's OnReady hook (which may be nil) so that
// it also closes the returned channel, once.
func signalReady(onReady func()) (func(), <-chan struct{}) {
	ready := make(chan struct{})
	var once sync.Once
	return func() {
		if onReady != nil {
			onReady()
		}
		once.Do(func() { close(ready) })
	}, ready
}
