// Command sise is a small HTTP service for tutorials and tests, modelled on
// mhausenblas' simpleservice: GET /info tells who answered and who asked,
// GET /health can be told to slow down or to start failing, and GET /env
// shows the environment. It listens on :9876 (PORT overrides), logs one line
// per request to stdout and exits 0 on SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Environment variables sise reads.
const (
	envPort      = "PORT"                   // port to listen on, default 9876
	envVersion   = "SIMPLE_SERVICE_VERSION" // version /info reports, default 0.5.0
	envFailAfter = "HEALTH_FAIL_AFTER"      // /health answers 500 after this many requests
	envHealthMin = "HEALTH_MIN"             // least delay of /health, ms
	envHealthMax = "HEALTH_MAX"             // most delay of /health, ms
)

// shutdownTimeout bounds how long requests in flight may take on SIGTERM.
const shutdownTimeout = 5 * time.Second

// config is sise's configuration, read from the environment.
type config struct {
	addr      string
	version   string
	failAfter int // -1: /health never fails
	healthMin time.Duration
	healthMax time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "sise: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	cfg, err := configFrom(getenv)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	return serve(ctx, lis, cfg, out)
}

// configFrom reads the configuration through getenv.
func configFrom(getenv func(string) string) (config, error) {
	cfg := config{addr: ":9876", version: "0.5.0", failAfter: -1}
	if p := getenv(envPort); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return config{}, fmt.Errorf("%s=%q: want a port number 1-65535", envPort, p)
		}
		cfg.addr = ":" + p
	}
	if v := getenv(envVersion); v != "" {
		cfg.version = v
	}
	if v := getenv(envFailAfter); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("%s=%q: want a count >= 0", envFailAfter, v)
		}
		cfg.failAfter = n
	}
	var err error
	if cfg.healthMin, err = millis(getenv, envHealthMin); err != nil {
		return config{}, err
	}
	if cfg.healthMax, err = millis(getenv, envHealthMax); err != nil {
		return config{}, err
	}
	// Like simpleservice: a minimum alone is a fixed delay.
	if cfg.healthMax < cfg.healthMin {
		if getenv(envHealthMax) != "" {
			return config{}, fmt.Errorf("%s=%s is below %s=%s", envHealthMax, getenv(envHealthMax), envHealthMin, getenv(envHealthMin))
		}
		cfg.healthMax = cfg.healthMin
	}
	return cfg, nil
}

func millis(getenv func(string) string, key string) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want milliseconds >= 0", key, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// serve answers on lis until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, lis net.Listener, cfg config, out io.Writer) error {
	srv := &http.Server{
		Handler:           newServer(cfg, out).handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintf(out, "sise %s listening on %s\n", cfg.version, cfg.addr)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", cfg.addr, err)
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "sise shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", cfg.addr, err)
	}
	return nil
}
