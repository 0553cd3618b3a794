// Package observe serves a component's /metrics, /healthz and /readyz on one
// HTTP listener (--metrics-address).
package observe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// Check reports whether a part of the component is healthy; nil means yes.
type Check func(ctx context.Context) error

// Server is the observability endpoint of one component.
type Server struct {
	Registry *prometheus.Registry

	mu     sync.RWMutex
	health map[string]Check
	ready  map[string]Check
}

// NewServer returns a server with a fresh registry holding the Go runtime and
// process collectors.
func NewServer() *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{Registry: reg, health: map[string]Check{}, ready: map[string]Check{}}
}

// AddHealthCheck adds a liveness check served on /healthz.
func (s *Server) AddHealthCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health[name] = c
}

// AddReadyCheck adds a readiness check served on /readyz.
func (s *Server) AddReadyCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready[name] = c
}

// Handler returns the mux serving /metrics, /healthz and /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	mux.HandleFunc("/healthz", s.serveChecks(func() map[string]Check { return s.health }))
	mux.HandleFunc("/livez", s.serveChecks(func() map[string]Check { return s.health }))
	mux.HandleFunc("/readyz", s.serveChecks(func() map[string]Check {
		all := map[string]Check{}
		for k, v := range s.health {
			all[k] = v
		}
		for k, v := range s.ready {
			all[k] = v
		}
		return all
	}))
	return mux
}

func (s *Server) serveChecks(checks func() map[string]Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		s.mu.RLock()
		cs := checks()
		s.mu.RUnlock()
		var failed []byte
		for name, c := range cs {
			if err := c(ctx); err != nil {
				failed = append(failed, []byte("[-]"+name+" failed: "+err.Error()+"\n")...)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write(failed)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
}

// Serve listens on addr and serves until ctx ends. An empty addr serves nothing.
// It returns the bound address through bound, if given, once listening.
func (s *Server) Serve(ctx context.Context, addr string, log *zap.Logger, bound func(net.Addr)) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s for metrics: %w", addr, err)
	}
	if bound != nil {
		bound(ln.Addr())
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("serving metrics and health", zap.String("address", ln.Addr().String()))
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve metrics on %s: %w", addr, err)
	}
	return nil
}
