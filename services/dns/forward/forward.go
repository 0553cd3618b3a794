// Package forward sends the queries the cluster's zones do not hold to
// upstream resolvers: over UDP, again over TCP when the answer comes back
// truncated, trying each upstream in turn, and answers SERVFAIL when none
// answers in time.
package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// Forwarder relays queries to its upstreams.
type Forwarder struct {
	upstreams []string
	udp, tcp  *dns.Client
	timeout   time.Duration
}

// New returns a forwarder to upstreams ("ip" or "ip:port", port 53 by
// default), each given timeout to answer.
func New(upstreams []string, timeout time.Duration) (*Forwarder, error) {
	f := &Forwarder{
		udp:     &dns.Client{Net: "udp", Timeout: timeout, UDPSize: dns.DefaultMsgSize},
		tcp:     &dns.Client{Net: "tcp", Timeout: timeout},
		timeout: timeout,
	}
	for _, u := range upstreams {
		a, err := Normalize(u)
		if err != nil {
			return nil, err
		}
		f.upstreams = append(f.upstreams, a)
	}
	return f, nil
}

// Normalize turns "ip" or "ip:port" into "ip:port".
func Normalize(u string) (string, error) {
	if ip := net.ParseIP(u); ip != nil {
		return net.JoinHostPort(u, "53"), nil
	}
	host, port, err := net.SplitHostPort(u)
	if err != nil || net.ParseIP(host) == nil || port == "" {
		return "", fmt.Errorf("upstream %q is not an IP address or IP:port", u)
	}
	return u, nil
}

// Upstreams returns the upstream addresses.
func (f *Forwarder) Upstreams() []string { return f.upstreams }

// ErrNoUpstream is returned when no upstream answered.
var ErrNoUpstream = errors.New("forward: no upstream answered")

// Exchange relays req and returns the first upstream answer; on
// ErrNoUpstream the caller answers SERVFAIL.
func (f *Forwarder) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	var last error = ErrNoUpstream
	for _, u := range f.upstreams {
		if ctx.Err() != nil {
			break
		}
		resp, _, err := f.udp.ExchangeContext(ctx, req, u)
		if err == nil && resp.Truncated {
			resp, _, err = f.tcp.ExchangeContext(ctx, req, u)
		}
		if err == nil {
			return resp, nil
		}
		last = fmt.Errorf("%w: %s: %v", ErrNoUpstream, u, err)
	}
	return nil, last
}
