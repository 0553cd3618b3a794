// Package healthcheck probes a component's /healthz or /readyz over HTTP. It
// backs tug-healthcheck, the probe the container images carry (they are
// built FROM scratch: no curl or wget inside), so that docker-compose and
// docker health checks can ask a component whether it is up.
package healthcheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody is how much of a failing answer the error quotes.
const maxBody = 512

// Probe GETs rawURL and returns nil when the answer is 200 OK. Any other
// status, a refused connection or an answer slower than timeout is an error
// naming the URL and, for an answer, its status and the start of its body
// (the failed checks /readyz lists).
func Probe(ctx context.Context, rawURL string, timeout time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("health check URL %q: want http://host:port/path", rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("health check %s: %w", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check %s: %s: %s", rawURL, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
