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
// CPU so that queries are read in parallel; the TCP socket, bound first
// without SO_REUSEPORT, keeps a second server off the port. A port of 0
// picks a free port, the same for UDP and TCP. Nothing is served until
// Serve.
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
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) == nil {
		return fmt.Errorf("dns: listen address %q is not IP:port", addr)
	}
	// A chosen port (0) may be free for TCP but not UDP: try a few.
	for attempt := 0; ; attempt++ {
		err = s.listenPort(ctx, host, port, h)
		if err == nil || port != "0" || attempt == 4 {
			return err
		}
	}
}

// listenPort binds TCP first, without SO_REUSEPORT, so that a port
// another server (a stale tug-dns among them) holds is refused rather
// than shared, then the UDP sockets on the same port.
func (s *Server) listenPort(ctx context.Context, host, port string, h dns.Handler) error {
	tcp := net.ListenConfig{Control: control(false)}
	l, err := tcp.Listen(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("dns: listen on tcp %s: %w", net.JoinHostPort(host, port), err)
	}
	bound := net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	servers := []*dns.Server{{Listener: l, Handler: h, MsgAcceptFunc: Accept}}
	udp := net.ListenConfig{Control: control(true)}
	for range max(runtime.GOMAXPROCS(0), 1) {
		pc, err := udp.ListenPacket(ctx, "udp", bound)
		if err != nil {
			for _, srv := range servers {
				closeServer(srv)
			}
			return fmt.Errorf("dns: listen on udp %s: %w", bound, err)
		}
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: h, MsgAcceptFunc: Accept})
	}
	s.servers = append(s.servers, servers...)
	s.addrs = append(s.addrs, bound)
	return nil
}

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
		closeServer(srv)
	}
}

func closeServer(srv *dns.Server) {
	if srv.PacketConn != nil {
		_ = srv.PacketConn.Close()
	}
	if srv.Listener != nil {
		_ = srv.Listener.Close()
	}
}

// control sets IP_FREEBIND (and IPV6_FREEBIND), and SO_REUSEPORT when
// reuse is set.
func control(reuse bool) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = setsockopts(int(fd), network, reuse)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
