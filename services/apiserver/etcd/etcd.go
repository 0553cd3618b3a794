// Package etcd gives the apiserver its etcd client: an embedded single-member
// etcd under the data dir when no endpoints are given, or a client of an
// external cluster otherwise.
package etcd

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options choose and tune the etcd the apiserver uses.
type Options struct {
	// Servers are external etcd endpoints; empty means embedded.
	Servers []string
	// DataDir holds the embedded etcd's data (DataDir/etcd).
	DataDir string
	// ClientURL is where the embedded etcd also serves clients (for tools and
	// benchmarks); empty means 127.0.0.1 on a free port.
	ClientURL string
	// PeerURL is the embedded member's peer URL; empty means 127.0.0.1 on a free port.
	PeerURL string
	// UnsafeNoFsync disables fsync in the embedded etcd (tests only).
	UnsafeNoFsync bool
	// EmbeddedTLS, when set, makes the embedded etcd serve its client and
	// peer listeners over TLS with client-certificate authentication
	// against its own CA; nil (--insecure) serves them in plaintext.
	EmbeddedTLS *pki.EtcdFiles
	// CAFile, CertFile and KeyFile are the client TLS of an external etcd
	// (--etcd-cafile, --etcd-certfile, --etcd-keyfile); an https endpoint
	// needs them.
	CAFile, CertFile, KeyFile string
}

// Handle is a running etcd connection.
type Handle struct {
	Client *clientv3.Client
	// ClientURL is where the etcd serves clients.
	ClientURL string
	embedded  *embed.Etcd
	closing   *atomic.Bool // quiets the embedded etcd's shutdown complaints
}

// Close stops the client and, when embedded, the etcd server.
func (h *Handle) Close() {
	_ = h.Client.Close()
	if h.embedded != nil {
		h.closing.Store(true)
		h.embedded.Close()
		<-h.embedded.Server.StopNotify()
	}
}

// Open connects to external etcd or starts the embedded one.
func Open(ctx context.Context, o Options, log *zap.Logger) (*Handle, error) {
	if len(o.Servers) > 0 {
		tlsCfg, err := externalTLS(o, log)
		if err != nil {
			return nil, err
		}
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   o.Servers,
			DialTimeout: 10 * time.Second,
			Logger:      log.Named("etcd-client"),
			Context:     ctx,
			TLS:         tlsCfg,
		})
		if err != nil {
			return nil, fmt.Errorf("connect to etcd %v: %w", o.Servers, err)
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := c.Get(sctx, "/registry/health", clientv3.WithCountOnly()); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("reach etcd %v: %w", o.Servers, err)
		}
		return &Handle{Client: c, ClientURL: o.Servers[0]}, nil
	}
	return startEmbedded(ctx, o, log)
}

// externalTLS is the client TLS of an external etcd: https endpoints need
// the CA and a client certificate; plaintext ones are allowed with a
// warning, as anyone who reaches them reads and writes the whole cluster.
func externalTLS(o Options, log *zap.Logger) (*tls.Config, error) {
	https := false
	for _, s := range o.Servers {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("--etcd-servers: %q: %w", s, err)
		}
		if u.Scheme == "https" {
			https = true
		} else {
			log.Warn("etcd endpoint is plaintext http: anyone who reaches it reads and writes the whole cluster; use https with --etcd-cafile, --etcd-certfile and --etcd-keyfile", zap.String("endpoint", s))
		}
	}
	if !https {
		return nil, nil
	}
	if o.CAFile == "" || o.CertFile == "" || o.KeyFile == "" {
		return nil, fmt.Errorf("https etcd endpoints need --etcd-cafile, --etcd-certfile and --etcd-keyfile")
	}
	if err := pki.CheckKeyFile(o.KeyFile); err != nil {
		return nil, fmt.Errorf("--etcd-keyfile: %w", err)
	}
	info := transport.TLSInfo{CertFile: o.CertFile, KeyFile: o.KeyFile, TrustedCAFile: o.CAFile}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("etcd client TLS (--etcd-cafile, --etcd-certfile, --etcd-keyfile): %w", err)
	}
	return c, nil
}

func startEmbedded(ctx context.Context, o Options, log *zap.Logger) (*Handle, error) {
	if o.DataDir == "" {
		return nil, fmt.Errorf("embedded etcd needs a data dir")
	}
	clientURL, err := urlOrFree(o.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("etcd client url: %w", err)
	}
	peerURL, err := urlOrFree(o.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("etcd peer url: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = "tugboat"
	cfg.Dir = filepath.Join(o.DataDir, "etcd")
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	if t := o.EmbeddedTLS; t != nil {
		// Only clients with a certificate of the etcd CA get in; the
		// peer listener of this single member is TLS with client
		// certificates too, so it is no back door either.
		info := transport.TLSInfo{CertFile: t.ServerCertFile, KeyFile: t.ServerKeyFile, TrustedCAFile: t.CAFile, ClientCertAuth: true}
		cfg.ClientTLSInfo, cfg.PeerTLSInfo = info, info
		clientURL.Scheme, peerURL.Scheme = "https", "https"
		cfg.ListenClientUrls = []url.URL{*clientURL}
		cfg.AdvertiseClientUrls = []url.URL{*clientURL}
		cfg.ListenPeerUrls = []url.URL{*peerURL}
		cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	}
	cfg.InitialCluster = cfg.Name + "=" + peerURL.String()
	cfg.UnsafeNoFsync = o.UnsafeNoFsync
	cfg.Logger = "zap"
	cfg.LogLevel = "warn"
	closing := new(atomic.Bool)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(log.Named("etcd").WithOptions(
		zap.IncreaseLevel(zap.WarnLevel),
		zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietWhenClosing{c, closing} }),
	))
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", cfg.Dir)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	log.Info("embedded etcd ready", zap.String("dir", cfg.Dir), zap.String("clientURL", clientURL.String()), zap.Bool("tls", o.EmbeddedTLS != nil))
	return &Handle{Client: inProcess(v3client.New(e.Server)), ClientURL: clientURL.String(), embedded: e, closing: closing}, nil
}

// quietWhenClosing passes the embedded etcd's log entries on, except while
// it is being closed: then its listeners report "use of closed network
// connection" and "server closed" as errors, which are the shutdown itself.
type quietWhenClosing struct {
	zapcore.Core
	closing *atomic.Bool
}

func (q quietWhenClosing) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if q.closing.Load() && e.Level < zapcore.DPanicLevel {
		return ce
	}
	return q.Core.Check(e, ce)
}

func (q quietWhenClosing) With(fields []zapcore.Field) zapcore.Core {
	return quietWhenClosing{q.Core.With(fields), q.closing}
}

// ClientTLS is the client TLS of the embedded etcd for files' client pair
// (the apiserver-etcd-client certificate), for tools and tests that read
// etcd directly.
func ClientTLS(files pki.EtcdFiles) (*tls.Config, error) {
	info := transport.TLSInfo{CertFile: files.ClientCertFile, KeyFile: files.ClientKeyFile, TrustedCAFile: files.CAFile}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("etcd client TLS: %w", err)
	}
	return c, nil
}
