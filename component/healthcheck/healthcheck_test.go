package healthcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("[-]informers failed: not synced\n"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A port nothing listens on: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	_ = ln.Close()

	for _, tc := range []struct {
		name, url string
		wantErr   string // "" for success
	}{
		{"healthy", srv.URL + "/healthz", ""},
		{"not ready names the failed check", srv.URL + "/readyz", "503 Service Unavailable: [-]informers failed: not synced"},
		{"not found", srv.URL + "/nope", "404 Not Found"},
		{"connection refused", closed, "connection refused"},
		{"timeout", srv.URL + "/slow", "deadline exceeded"},
		{"not a URL", "127.0.0.1:6443/healthz", "want http://host:port/path"},
		{"empty", "", "want http://host:port/path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Probe(context.Background(), tc.url, 300*time.Millisecond)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Probe(%s) = %v, want nil", tc.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Probe(%s) = %v, want an error containing %q", tc.url, err, tc.wantErr)
			}
		})
	}
}
