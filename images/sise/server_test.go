package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testServer(cfg config) (*server, *strings.Builder) {
	var out strings.Builder
	return newServer(cfg, &out), &out
}

func defaultConfig() config {
	return config{addr: ":9876", version: "0.5.0", failAfter: -1}
}

func get(h http.Handler, method, target, host, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if host != "" {
		req.Host = host
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestInfo(t *testing.T) {
	tests := []struct {
		name, version, host, remote string
		want                        string
	}{
		{"pod IP", "0.5.0", "10.34.0.25:9876", "10.32.0.1:51234",
			`{"host": "10.34.0.25:9876", "version": "0.5.0", "from": "10.32.0.1"}`},
		{"localhost", "1.0", "localhost:9876", "127.0.0.1:40000",
			`{"host": "localhost:9876", "version": "1.0", "from": "127.0.0.1"}`},
		{"IPv6 caller", "0.5.0", "sise", "[fd00::1]:40000",
			`{"host": "sise", "version": "0.5.0", "from": "fd00::1"}`},
		{"quotes escaped", `0.5"x`, "h", "1.2.3.4:1",
			`{"host": "h", "version": "0.5\"x", "from": "1.2.3.4"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.version = tt.version
			s, out := testServer(cfg)
			rec := get(s.handler(), http.MethodGet, "/info", tt.host, tt.remote)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var m map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || len(m) != 3 {
				t.Errorf("body %s: want a JSON object of exactly host, version, from (%v)", rec.Body, err)
			}
			if !strings.Contains(out.String(), "200 GET /info from ") {
				t.Errorf("log = %q, want a line for GET /info", out)
			}
		})
	}
}

func TestHealthFailAfter(t *testing.T) {
	tests := []struct {
		name      string
		failAfter int
		want      []int
	}{
		{"never fails", -1, []int{200, 200, 200, 200, 200}},
		{"fails after 2", 2, []int{200, 200, 500, 500}},
		{"fails at once", 0, []int{500, 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.failAfter = tt.failAfter
			s, _ := testServer(cfg)
			h := s.handler()
			for i, want := range tt.want {
				rec := get(h, http.MethodGet, "/health", "", "")
				if rec.Code != want {
					t.Fatalf("request %d: status = %d, want %d", i+1, rec.Code, want)
				}
				wantBody := `{"healthy":true}`
				if want != 200 {
					wantBody = `{"healthy":false}`
				}
				if got := strings.TrimSpace(rec.Body.String()); got != wantBody {
					t.Errorf("request %d: body = %s, want %s", i+1, got, wantBody)
				}
			}
		})
	}
}

func TestHealthDelay(t *testing.T) {
	cfg := defaultConfig()
	cfg.healthMin, cfg.healthMax = 100*time.Millisecond, 300*time.Millisecond
	s, _ := testServer(cfg)
	var gotRange [2]time.Duration
	var slept []time.Duration
	s.delay = func(lo, hi time.Duration) time.Duration {
		gotRange = [2]time.Duration{lo, hi}
		return 250 * time.Millisecond
	}
	s.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	if rec := get(s.handler(), http.MethodGet, "/health", "", ""); rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if gotRange != [2]time.Duration{cfg.healthMin, cfg.healthMax} {
		t.Errorf("delay range = %v, want [%v %v]", gotRange, cfg.healthMin, cfg.healthMax)
	}
	if len(slept) != 1 || slept[0] != 250*time.Millisecond {
		t.Errorf("slept %v, want [250ms]", slept)
	}

	// A caller that gives up while /health waits gets no answer.
	s.sleep = func(ctx context.Context, _ time.Duration) error { return context.Canceled }
	if rec := get(s.handler(), http.MethodGet, "/health", "", ""); rec.Body.Len() != 0 {
		t.Errorf("body after a cancelled wait = %q, want none", rec.Body)
	}
}

func TestRandomDelay(t *testing.T) {
	tests := []struct{ lo, hi time.Duration }{
		{0, 0}, {5 * time.Millisecond, 5 * time.Millisecond}, {time.Millisecond, 3 * time.Millisecond}, {7, 3},
	}
	for _, tt := range tests {
		for range 100 {
			d := randomDelay(tt.lo, tt.hi)
			if d < tt.lo || (tt.hi >= tt.lo && d > tt.hi) {
				t.Fatalf("randomDelay(%v, %v) = %v, out of range", tt.lo, tt.hi, d)
			}
		}
	}
}

func TestEnv(t *testing.T) {
	s, _ := testServer(defaultConfig())
	s.environ = func() []string { return []string{"A=1", "B=x=y", "EMPTY="} }
	rec := get(s.handler(), http.MethodGet, "/env", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "x=y", "EMPTY": ""}
	if len(got) != len(want) {
		t.Errorf("env = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("env[%s] = %q, want %q", k, got[k], v)
		}
	}
}

func TestOtherRequests(t *testing.T) {
	tests := []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/nothing", http.StatusNotFound},
		{http.MethodPost, "/info", http.StatusMethodNotAllowed},
		{http.MethodHead, "/health", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			s, out := testServer(defaultConfig())
			rec := get(s.handler(), tt.method, tt.target, "", "")
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
			if !strings.Contains(out.String(), tt.method+" "+tt.target) {
				t.Errorf("log = %q, want a line for the request", out)
			}
		})
	}
}
