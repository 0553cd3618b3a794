package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestConfigFrom(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", nil, config{addr: ":9876", version: "0.5.0", failAfter: -1}, ""},
		{"all set", map[string]string{"PORT": "8080", "SIMPLE_SERVICE_VERSION": "1.0", "HEALTH_FAIL_AFTER": "3", "HEALTH_MIN": "100", "HEALTH_MAX": "500"},
			config{addr: ":8080", version: "1.0", failAfter: 3, healthMin: 100 * time.Millisecond, healthMax: 500 * time.Millisecond}, ""},
		{"min alone is a fixed delay", map[string]string{"HEALTH_MIN": "200"},
			config{addr: ":9876", version: "0.5.0", failAfter: -1, healthMin: 200 * time.Millisecond, healthMax: 200 * time.Millisecond}, ""},
		{"max alone", map[string]string{"HEALTH_MAX": "200"},
			config{addr: ":9876", version: "0.5.0", failAfter: -1, healthMax: 200 * time.Millisecond}, ""},
		{"bad port", map[string]string{"PORT": "x"}, config{}, "PORT"},
		{"port out of range", map[string]string{"PORT": "70000"}, config{}, "PORT"},
		{"bad fail after", map[string]string{"HEALTH_FAIL_AFTER": "-1"}, config{}, "HEALTH_FAIL_AFTER"},
		{"bad min", map[string]string{"HEALTH_MIN": "soon"}, config{}, "HEALTH_MIN"},
		{"max below min", map[string]string{"HEALTH_MIN": "500", "HEALTH_MAX": "100"}, config{}, "HEALTH_MAX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configFrom(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("config = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// syncBuffer is an io.Writer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{addr: lis.Addr().String(), version: "0.5.0", failAfter: 1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis, cfg, &out) }()

	base := "http://" + lis.Addr().String()
	for _, tt := range []struct {
		path string
		want int
	}{{"/info", 200}, {"/health", 200}, {"/health", 500}, {"/env", 200}} {
		res, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("GET %s = %d %s, want %d", tt.path, res.StatusCode, body, tt.want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	log := out.String()
	for _, want := range []string{"sise 0.5.0 listening on " + cfg.addr, "200 GET /info from 127.0.0.1", "500 GET /health", "sise shutting down"} {
		if !strings.Contains(log, want) {
			t.Errorf("output %q lacks %q", log, want)
		}
	}
}
