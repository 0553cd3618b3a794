package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// server holds the handlers' state.
type server struct {
	cfg    config
	log    *log.Logger
	checks atomic.Int64 // /health requests so far

	// Seams for tests.
	environ func() []string
	delay   func(lo, hi time.Duration) time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
}

func newServer(cfg config, out io.Writer) *server {
	return &server{
		cfg:     cfg,
		log:     log.New(out, "", log.LstdFlags|log.LUTC),
		environ: os.Environ,
		delay:   randomDelay,
		sleep:   sleep,
	}
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /info", s.info)
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /env", s.env)
	return s.logged(mux)
}

// info answers {"host": ..., "version": ..., "from": ...}, laid out as
// simpleservice does.
func (s *server) info(w http.ResponseWriter, r *http.Request) {
	body := fmt.Sprintf(`{"host": %s, "version": %s, "from": %s}`+"\n",
		quote(r.Host), quote(s.cfg.version), quote(remoteIP(r)))
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, body)
}

// health answers 200 {"healthy":true} after the configured delay, or 500
// {"healthy":false} once HEALTH_FAIL_AFTER requests have been answered.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	n := s.checks.Add(1)
	if d := s.delay(s.cfg.healthMin, s.cfg.healthMax); d > 0 {
		if err := s.sleep(r.Context(), d); err != nil {
			return // the caller gave up
		}
	}
	healthy := s.cfg.failAfter < 0 || n <= int64(s.cfg.failAfter)
	status := http.StatusOK
	if !healthy {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, map[string]bool{"healthy": healthy})
}

// env answers the process environment as a JSON object.
func (s *server) env(w http.ResponseWriter, r *http.Request) {
	env := map[string]string{}
	for _, kv := range s.environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	writeJSON(w, http.StatusOK, env)
}

// logged logs one line per request.
func (s *server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.log.Printf("%d %s %s from %s in %.3fms", sw.status, r.Method, r.URL.RequestURI(), remoteIP(r),
			float64(time.Since(start).Microseconds())/1000)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func quote(s string) string {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return string(b)
}

// remoteIP is the caller's address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// randomDelay picks a delay in [lo, hi].
func randomDelay(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
