package server

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
)

// Server serves one handler on UDP and TCP at a set of addresses.
type Server struct {
	servers []*dns.Server
	addrs   []string
}

// Listen binds each address on UDP and TCP (IP_FREEBIND, so the address
// need not exist on the host yet). UDP gets one SO_REUSEPORT socket per
// CPU so that queries are read in parallel. A port of 0 picks a free
// port, the same for UDP and TCP. Nothing is served until Serve.
func Listen(ctx context.Context, addrs []string, h dns.Handler) (*Server, error) {
	s := &Server{}
	for _, a := range addrs {
		if err := s.listen(ctx, a, h); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) listen(ctx context.Context, addr string, h dns.Handler) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) == nil {
		return fmt.Errorf("dns: listen address %q is not IP:port", addr)
	}
	lc := net.ListenConfig{Control: control}
	first, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("dns: listen on udp %s: %w", addr, err)
	}
	s.add(&dns.Server{PacketConn: first, Handler: h, MsgAcceptFunc: Accept})
	bound := net.JoinHostPort(host, strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port))
	for range runtime.GOMAXPROCS(0) - 1 {
		pc, err := lc.ListenPacket(ctx, "udp", bound)
		if err != nil {
			return fmt.Errorf("dns: listen on udp %s: %w", bound, err)
		}
		s.add(&dns.Server{PacketConn: pc, Handler: h, MsgAcceptFunc: Accept})
	}
	l, err := lc.Listen(ctx, "tcp", bound)
	if err != nil {
		return fmt.Errorf("dns: listen on tcp %s: %w", bound, err)
	}
	s.add(&dns.Server{Listener: l, Handler: h, MsgAcceptFunc: Accept})
	s.addrs = append(s.addrs, bound)
	return nil
}

func (s *Server) add(srv *dns.Server) { s.servers = append(s.servers, srv) }

// Addrs returns the bound addresses, one per listen address, with the
// ports chosen for port 0.
func (s *Server) Addrs() []string { return s.addrs }

// Serve answers queries until ctx ends, then shuts the sockets down.
func (s *Server) Serve(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, srv := range s.servers {
		g.Go(func() error {
			if err := srv.ActivateAndServe(); err != nil && gctx.Err() == nil {
				return fmt.Errorf("dns: serve: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		s.Close()
		return nil
	})
	return g.Wait()
}

// Close closes every socket; Serve returns.
func (s *Server) Close() {
	for _, srv := range s.servers {
		if srv.PacketConn != nil {
			_ = srv.PacketConn.Close()
		}
		if srv.Listener != nil {
			_ = srv.Listener.Close()
		}
	}
}

// control sets IP_FREEBIND (and IPV6_FREEBIND) and SO_REUSEPORT.
func control(network, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = setsockopts(int(fd), network)
	})
	if err != nil {
		return err
	}
	return serr
}
