package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/soheilhy/cmux"
	"github.com/tugboat-sh/tugboat/component/observe"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/authz"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"github.com/tugboat-sh/tugboat/services/apiserver/noderestriction"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"github.com/tugboat-sh/tugboat/services/apiserver/rest"
	"github.com/tugboat-sh/tugboat/services/apiserver/server"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// maxMessageBytes bounds a gRPC message; objects above registry.MaxObjectBytes
// get a clear 413 rather than a transport error.
const maxMessageBytes = 8 << 20

// streamWorkers is the size of the gRPC server's worker pool.
const streamWorkers = 256

// systemNamespaces exist from the start.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// Run serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	obs := observe.NewServer()
	sec, err := setupSecurity(&cfg, obs.Registry)
	if err != nil {
		return err
	}
	defer sec.audit.Close()
	db, err := etcd.Open(ctx, etcd.Options{
		Servers: cfg.EtcdServers, DataDir: cfg.DataDir,
		ClientURL: cfg.EtcdClientURL, PeerURL: cfg.EtcdPeerURL, UnsafeNoFsync: cfg.UnsafeNoFsync,
		EmbeddedTLS: sec.etcdTLS, CAFile: cfg.EtcdCAFile, CertFile: cfg.EtcdCertFile, KeyFile: cfg.EtcdKeyFile,
	}, log)
	if err != nil {
		return err
	}
	defer db.Close()
	store := storage.New(db.Client, storage.NewMetrics(obs.Registry))
	if err := setupEncryption(ctx, &cfg, store, log); err != nil {
		return err
	}
	svcAlloc, err := newServiceAllocator(store, cfg, obs.Registry, log.Named("allocator"))
	if err != nil {
		return err
	}
	reg := registry.New(store, registry.NewMetrics(obs.Registry), registry.Options{
		BookmarkInterval: cfg.BookmarkInterval,
		Logger:           log.Named("registry"),
		Allocators:       map[string]registry.Allocator{"services": svcAlloc},
		Admission:        map[string]registry.Admit{"nodes": noderestriction.Admit},
	})
	if err := bootstrap(ctx, reg); err != nil {
		return err
	}
	if err := repairServices(ctx, reg, svcAlloc); err != nil {
		return err
	}
	sec.attach(&cfg, reg, obs.Registry, log)
	obs.AddHealthCheck("etcd", func(ctx context.Context) error {
		_, err := store.CurrentRevision(ctx)
		return err
	})

	grpcMetrics := obs.GRPCServerMetrics("apiserver")
	secUnary, secStream := sec.interceptors()
	gs := grpc.NewServer(
		server.CodecOption(),
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.MaxSendMsgSize(maxMessageBytes),
		// Requests run on a pool of long-lived goroutines whose stacks
		// have already grown, not on a fresh goroutine each: stack growth
		// was 6% of the CPU of a create. Beyond the pool (long watches
		// hold workers) grpc-go starts goroutines as usual.
		grpc.NumStreamWorkers(streamWorkers),
		grpc.Creds(authn.ServerCredentials()),
		grpc.ChainUnaryInterceptor(append(append([]grpc.UnaryServerInterceptor{grpcMetrics.UnaryServerInterceptor()}, secUnary...), server.ErrorUnary)...),
		grpc.ChainStreamInterceptor(append(append([]grpc.StreamServerInterceptor{grpcMetrics.StreamServerInterceptor()}, secStream...), server.ErrorStream)...),
	)
	// The kubelets' connections carry the client metrics; closing the pool
	// at shutdown ends the log and exec streams that would hold it up.
	grpcClientMetrics := obs.GRPCClientMetrics("apiserver")
	kubelets := kubelet.NewPool(kubelet.Options{
		Registerer: obs.Registry,
		TLS:        sec.kubeletTLS,
		DialOptions: []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(grpcClientMetrics.UnaryClientInterceptor()),
			grpc.WithChainStreamInterceptor(grpcClientMetrics.StreamClientInterceptor()),
		},
	})
	defer kubelets.Close()
	server.Register(gs, reg, kubelets, sec.serviceAccounts)
	grpcMetrics.InitializeMetrics(gs)

	// The watch caches and the security caches (RBAC, pods for the node
	// authoriser, bootstrap tokens) run until Run returns; the security
	// caches are loaded before anything is served.
	secCtx, stopSec := context.WithCancel(ctx)
	defer stopSec()
	var secDone sync.WaitGroup
	defer secDone.Wait()
	defer stopSec()
	// The registry's watch caches run first: the security caches' watches,
	// started from their lists' revisions, are then served by them rather
	// than by etcd watches of their own, which would decode every change
	// again.
	secDone.Go(func() { reg.RunCaches(secCtx) })
	if len(sec.run) > 0 && !reg.WaitCaches(ctx, sec.resources...) {
		return ctx.Err()
	}
	for _, run := range sec.run {
		secDone.Go(func() { run(secCtx) })
	}
	for _, synced := range sec.synced {
		if !synced(ctx) {
			return ctx.Err()
		}
	}

	rawLn, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddress, err)
	}
	kube := kubernetesService{reg: reg, ip: svcAlloc.IPs.First(), addr: advertiseAddress(cfg, rawLn.Addr()), port: rawLn.Addr().(*net.TCPAddr).Port, log: log}
	if err := kube.reconcile(ctx); err != nil {
		_ = rawLn.Close()
		return err
	}
	ln := rawLn
	if sec.tls != nil {
		ln = tls.NewListener(rawLn, sec.tls)
	}
	mux := cmux.New(ln)
	// A connection that sends nothing (or stalls in the TLS handshake,
	// which runs on cmux's first read) is dropped after this, instead of
	// holding a goroutine in the matcher; once matched, no deadline.
	mux.SetReadTimeout(cfg.ConnectionReadTimeout)
	// gRPC is HTTP/2, told by its connection preface, which a client sends
	// as soon as it connects: the REST server does not speak HTTP/2 (over
	// TLS it negotiates http/1.1 with every client that offers it), so
	// nothing else is lost. Matching on the preface rather than on the
	// first request's content-type means a gRPC client that connects and
	// sends its first call later than the read timeout is not cut off.
	grpcL := mux.Match(cmux.HTTP2())
	httpL := mux.Match(sentSomething)

	// The REST gateway reaches the gRPC server in memory: the user the
	// HTTP layer authenticated travels as metadata trusted on this
	// connection only.
	inProc := authn.NewInProcess()
	conn, err := grpc.NewClient("passthrough:///apiserver",
		grpc.WithContextDialer(inProc.Dial),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("dial own gRPC for the gateway: %w", err)
	}
	defer conn.Close()
	restOpts := rest.Options{ServerAddress: ln.Addr().String(), Logger: log.Named("rest")}
	if sec.authn != nil {
		restOpts.Metadata = authn.GatewayMetadata
	}
	restHandler, err := rest.NewHandler(ctx, conn, restOpts)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("build REST gateway: %w", err)
	}
	httpMux := http.NewServeMux()
	obsHandler := obs.Handler()
	for _, p := range []string{"/metrics", "/healthz", "/readyz", "/livez"} {
		httpMux.Handle(p, obsHandler)
	}
	httpMux.Handle("/", restHandler)
	var handler http.Handler = httpMux
	if sec.guard != nil {
		handler = sec.guard.Middleware(handler)
	}
	if sec.authn != nil {
		handler = sec.authn.Middleware(handler)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 1 << 20, ConnContext: authn.ConnContext}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveGRPC(gs, grpcL) })
	g.Go(func() error { return serveGRPC(gs, inProc.Listener()) })
	g.Go(func() error { return serveHTTP(hs, httpL) })
	g.Go(func() error { return serveMux(mux) })
	g.Go(func() error { return obs.Serve(gctx, cfg.MetricsAddress, log, nil) })
	g.Go(func() error { compact(gctx, store, cfg.CompactionInterval, log); return nil })
	g.Go(func() error { reg.CountObjects(gctx, cfg.ObjectCountInterval, log); return nil })
	g.Go(func() error { svcAlloc.RunRepair(gctx, cfg.ServiceRepairInterval, listServices(reg)); return nil })
	g.Go(func() error { kube.run(gctx, cfg.KubernetesServiceInterval); return nil })
	g.Go(func() error {
		<-gctx.Done()
		shutdown(gs, hs, mux, kubelets, log)
		return nil
	})
	log.Info("apiserver serving", zap.String("address", ln.Addr().String()), zap.String("etcd", db.ClientURL), zap.Bool("embeddedEtcd", len(cfg.EtcdServers) == 0),
		zap.Bool("insecure", cfg.Security.Insecure), zap.Bool("tls", sec.tls != nil), zap.Bool("authentication", sec.authn != nil), zap.Strings("authorizationModes", cfg.Security.AuthorizationModes), zap.Bool("audit", sec.audit != nil))
	if cfg.OnReady != nil {
		cfg.OnReady(ln.Addr())
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// bootstrap creates the system namespaces and the default cluster roles
// and bindings when they are missing.
func bootstrap(ctx context.Context, reg *registry.Registry) error {
	ns := reg.Resource("namespaces")
	for _, name := range systemNamespaces {
		_, err := ns.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}})
		if err != nil && status.Code(apierr.FromError(err).Err()) != codes.AlreadyExists {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return authz.EnsureDefaults(ctx, reg)
}

// sentSomething matches every connection that sent at least a byte: the
// rest of what gRPC did not take is REST. One that sent nothing before the
// read timeout matches nothing and is closed.
func sentSomething(r io.Reader) bool {
	var b [1]byte
	n, _ := r.Read(b[:])
	return n > 0
}

func serveGRPC(gs *grpc.Server, l net.Listener) error {
	if err := gs.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) && !errors.Is(err, cmux.ErrListenerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve gRPC: %w", err)
	}
	return nil
}

func serveHTTP(hs *http.Server, l net.Listener) error {
	if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, cmux.ErrListenerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve HTTP: %w", err)
	}
	return nil
}

func serveMux(m cmux.CMux) error {
	if err := m.Serve(); err != nil && !errors.Is(err, cmux.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve listener: %w", err)
	}
	return nil
}

// shutdown stops taking requests and lets running ones finish for a while.
// Log and exec streams do not finish on their own: closing the kubelet
// connections ends them first.
func shutdown(gs *grpc.Server, hs *http.Server, m cmux.CMux, kubelets *kubelet.Pool, log *zap.Logger) {
	log.Info("apiserver shutting down")
	if err := kubelets.Close(); err != nil {
		log.Warn("closing kubelet connections failed", zap.Error(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		gs.Stop()
	}
	m.Close()
}

// compact keeps one interval of etcd history: each tick compacts to the
// revision seen at the previous tick.
func compact(ctx context.Context, store *storage.Store, interval time.Duration, log *zap.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if last > 0 {
			if err := store.Compact(ctx, last); err != nil && ctx.Err() == nil {
				log.Warn("etcd compaction failed", zap.Int64("revision", last), zap.Error(err))
			}
		}
		rev, err := store.CurrentRevision(ctx)
		if err != nil {
			continue
		}
		last = rev
	}
}
