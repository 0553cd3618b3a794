package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Target splits a Server value into the gRPC target (host:port) and
// whether the connection uses TLS. http:// and a bare host:port are
// plaintext; https:// is TLS. A missing port defaults to 80 or 443.
func Target(server string) (target string, secure bool, err error) {
	if !strings.Contains(server, "://") {
		if _, _, err := net.SplitHostPort(server); err != nil {
			return "", false, fmt.Errorf("server %q: want a URL or host:port: %w", server, err)
		}
		return server, false, nil
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", false, fmt.Errorf("server %q: %w", server, err)
	}
	if u.Path != "" && u.Path != "/" {
		return "", false, fmt.Errorf("server %q: a path is not supported", server)
	}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		secure = true
		if port == "" {
			port = "443"
		}
	default:
		return "", false, fmt.Errorf("server %q: scheme %q is neither http nor https", server, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", false, fmt.Errorf("server %q: no host", server)
	}
	return net.JoinHostPort(u.Hostname(), port), secure, nil
}

// Dial returns a client connection to cfg.Server. Plaintext for http://
// and host:port, TLS (cfg's CA, client certificate and key) for https://;
// a Token is sent on every RPC as "authorization: Bearer <token>". opts are
// appended, so WithMetrics and test options can be passed. The connection
// is established lazily by the first RPC; ctx only bounds set-up.
func Dial(ctx context.Context, cfg *Config, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if cfg == nil {
		return nil, errors.New("config: Dial with a nil Config")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target, secure, err := Target(cfg.Server)
	if err != nil {
		return nil, err
	}
	var dopts []grpc.DialOption
	if secure {
		tc, err := TLSConfig(cfg)
		if err != nil {
			return nil, err
		}
		dopts = append(dopts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if cfg.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: cfg.Token, secure: secure}))
	}
	conn, err := grpc.NewClient(target, append(dopts, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", cfg.Server, err)
	}
	return conn, nil
}

// TLSConfig builds the client TLS configuration of cfg: trust CAData (the
// system pool when empty), present CertData/KeyData when set.
func TLSConfig(cfg *Config) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: cfg.InsecureSkipTLSVerify, //nolint:gosec // the kubeconfig asked for it
		ServerName:         cfg.TLSServerName,
	}
	if len(cfg.CAData) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CAData) {
			return nil, fmt.Errorf("context %q: certificate-authority holds no PEM certificate", cfg.ContextName)
		}
		tc.RootCAs = pool
	}
	if len(cfg.CertData) > 0 || len(cfg.KeyData) > 0 {
		cert, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData)
		if err != nil {
			return nil, fmt.Errorf("context %q: client certificate: %w", cfg.ContextName, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// bearer sends a bearer token with every RPC. Over plaintext, today's only
// mode of a local cluster, it does not demand transport security.
type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }
