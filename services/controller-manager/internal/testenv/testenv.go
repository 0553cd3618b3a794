// Package testenv is what the controllers' unit tests share: a fake
// apiserver (client/fake) with a clientset over it, metrics on a private
// registry, an Event recorder, informers run until the test ends, and
// polling with a deadline.
package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/fake"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
)

// Env is a fake apiserver and what a controller needs to talk to it.
type Env struct {
	Srv     *fake.Server
	CS      *clientset.Set
	Metrics *controller.Metrics
	Events  *record.Recorder
	Log     *zap.Logger
	Ctx     context.Context
}

// Start serves a fresh fake apiserver for t; everything stops with t.
func Start(t *testing.T) *Env {
	t.Helper()
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m, err := controller.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset.New(conn)
	return &Env{Srv: srv, CS: cs, Metrics: m, Events: record.New(cs.Events(), "test", "", nil), Log: zap.NewNop(), Ctx: t.Context()}
}

// Run runs inf until the test ends and waits for its first sync.
func Run[T informer.Object](t *testing.T, inf *informer.Informer[T]) {
	t.Helper()
	go inf.Run(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if !inf.WaitForSync(ctx) {
		t.Fatal("informer did not sync in 10s")
	}
}

// Eventually polls cond every 10 ms until it holds, failing t with what
// after 10 s.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
