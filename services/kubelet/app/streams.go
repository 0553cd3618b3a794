package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tugboat-sh/tugboat/component/observe"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	"github.com/tugboat-sh/tugboat/images/archive"
	"github.com/tugboat-sh/tugboat/images/registry"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/pods"
	"github.com/tugboat-sh/tugboat/services/kubelet/stream"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
)

// locator adapts the pod manager to the stream server.
type locator struct{ mgr *pods.Manager }

func (l locator) Container(namespace, pod, container string, previous bool) (stream.Container, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := l.mgr.Container(ctx, namespace, pod, container, previous)
	if err != nil {
		return stream.Container{}, err
	}
	return stream.Container{ID: c.ID, LogPath: c.LogPath}, nil
}

// serveStreams serves the KubeletService (logs, exec) on --address:--port
// over TLS to the apiserver (or, --insecure, in plaintext to anyone) and
// returns the port; 0 when --port is 0.
func serveStreams(ctx context.Context, g *errgroup.Group, cfg Config, kubeconfigCA []byte, rt *cri.Runtime, mgr *pods.Manager, obs *observe.Server, log *zap.Logger) (int, error) {
	if cfg.Port == 0 {
		return 0, nil
	}
	gs, err := newKubeletServer(cfg, kubeconfigCA, stream.New(rt, locator{mgr}, log.Named("stream")), obs, log)
	if err != nil {
		return 0, err
	}
	addr := cfg.Address
	if addr == "" {
		addr = cfg.NodeIP
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(cfg.Port)))
	if err != nil {
		return 0, fmt.Errorf("kubelet server: %w", err)
	}
	g.Go(func() error {
		if err := gs.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("kubelet server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		// Log follows and exec sessions end with the kubelet.
		gs.Stop()
		return nil
	})
	log.Info("serving logs and exec", zap.String("address", lis.Addr().String()), zap.Bool("tls", !cfg.Insecure))
	return portOf(lis.Addr()), nil
}

// newKubeletServer is the gRPC server of svc with metrics and the
// kubelet API's security (serverSecurity).
func newKubeletServer(cfg Config, kubeconfigCA []byte, svc kubeletv1.KubeletServiceServer, obs *observe.Server, log *zap.Logger) (*grpc.Server, error) {
	sopts, err := serverSecurity(cfg, kubeconfigCA, log)
	if err != nil {
		return nil, err
	}
	m := obs.GRPCServerMetrics("kubelet")
	gs := grpc.NewServer(append([]grpc.ServerOption{grpc.ChainUnaryInterceptor(m.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(m.StreamServerInterceptor())}, sopts...)...)
	kubeletv1.RegisterKubeletServiceServer(gs, svc)
	m.InitializeMetrics(gs)
	return gs, nil
}

// serveImages serves the OCI archives in dir on a loopback registry for the
// managed containerd and returns its address.
func serveImages(ctx context.Context, g *errgroup.Group, dir string, log *zap.Logger) (string, error) {
	imgs, err := archive.LoadDir(dir)
	if err != nil {
		return "", fmt.Errorf("--image-archives: %w", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("image registry: %w", err)
	}
	rlog := log.Named("registry").Sugar()
	g.Go(func() error { return registry.Serve(ctx, lis, imgs, rlog.Debugf) })
	names := make([]string, len(imgs))
	for i, im := range imgs {
		names[i] = im.Tag.String()
	}
	log.Info("serving images to containerd", zap.String("address", lis.Addr().String()), zap.Strings("images", names))
	return lis.Addr().String(), nil
}
