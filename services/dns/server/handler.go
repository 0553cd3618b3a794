// Package server serves DNS on UDP and TCP sockets: the miekg/dns
// handler that answers from the cluster's zones or forwards, counts
// every query in Prometheus metrics, and the listeners, bound with
// IP_FREEBIND so that an address can be served before it exists on the
// host.
package server

import (
	"context"
	"time"

	"github.com/miekg/dns"
	"github.com/tugboat-sh/tugboat/services/dns/answer"
	"github.com/tugboat-sh/tugboat/services/dns/forward"
	"go.uber.org/zap"
)

// Handler answers queries: from Zone for the served zones, through
// Forward for the rest.
type Handler struct {
	Zone    answer.Zone
	Config  answer.Config
	Forward *forward.Forwarder
	Metrics *Metrics
	Log     *zap.Logger
}

var _ dns.Handler = (*Handler)(nil)

// ServeDNS implements dns.Handler.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	resp := h.Resolve(context.Background(), req)
	// Always compressed: a large headless answer over TCP can exceed a
	// message's 64 KiB uncompressed and fit compressed.
	resp.Compress = true
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		if resp.IsEdns0() == nil && resp.Rcode != dns.RcodeFormatError {
			resp.SetEdns0(uint16(min(size, dns.DefaultMsgSize)), opt.Do())
		}
	}
	if w.LocalAddr().Network() == "udp" {
		resp.Truncate(size)
	}
	h.Metrics.observe(req, resp, time.Since(start))
	if err := w.WriteMsg(resp); err != nil {
		h.Log.Debug("dns write failed", zap.Error(err))
	}
}

// Resolve returns the response to req; it never fails, errors become
// response codes.
func (h *Handler) Resolve(ctx context.Context, req *dns.Msg) *dns.Msg {
	resp, fwd := answer.Answer(h.Zone, h.Config, req)
	if !fwd {
		return resp
	}
	if h.Forward == nil {
		return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
	}
	up, err := h.Forward.Exchange(ctx, req)
	if err != nil {
		h.Log.Debug("dns forward failed", zap.String("name", req.Question[0].Name), zap.Error(err))
		h.Metrics.forwarded(dns.RcodeServerFailure)
		resp := new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
		resp.RecursionAvailable = true
		return resp
	}
	h.Metrics.forwarded(up.Rcode)
	up.Id = req.Id
	return up
}

// Accept lets every query through to the handler, which answers the
// malformed ones with FORMERR or NOTIMP itself; responses are dropped.
func Accept(dh dns.Header) dns.MsgAcceptAction {
	if dh.Bits&(1<<15) != 0 { // QR: a response, never answer it
		return dns.MsgIgnore
	}
	return dns.MsgAccept
}
