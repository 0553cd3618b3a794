package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/allocator"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// newServiceAllocator builds the cluster IP and node port allocators of the
// configured ranges.
func newServiceAllocator(store *storage.Store, cfg Config, reg prometheus.Registerer, log *zap.Logger) (*allocator.Services, error) {
	m, err := allocator.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	ips, err := allocator.NewIPs(store, cfg.ServiceClusterIPRange, m)
	if err != nil {
		return nil, err
	}
	rng, err := allocator.ParsePortRange(cfg.ServiceNodePortRange)
	if err != nil {
		return nil, err
	}
	return &allocator.Services{IPs: ips, Ports: allocator.NewPorts(store, rng, m), Log: log}, nil
}

// listServices reads every stored Service, for the allocators' repairs.
func listServices(reg *registry.Registry) func(context.Context) ([]*corev1.Service, error) {
	return func(ctx context.Context) ([]*corev1.Service, error) {
		list, err := reg.Resource("services").List(ctx, &metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services for the allocator repair: %w", err)
		}
		svcs := make([]*corev1.Service, len(list.Items))
		for i, o := range list.Items {
			svcs[i] = o.(*corev1.Service)
		}
		return svcs, nil
	}
}

// repairServices rebuilds the allocators' bitmaps from the stored Services,
// before any request can allocate.
func repairServices(ctx context.Context, reg *registry.Registry, alloc *allocator.Services) error {
	svcs, err := listServices(reg)(ctx)
	if err != nil {
		return err
	}
	return alloc.Repair(ctx, svcs)
}

// advertiseAddress is the IP the `kubernetes` Endpoints point at.
func advertiseAddress(cfg Config, listen net.Addr) netip.Addr {
	if a, err := netip.ParseAddr(cfg.AdvertiseAddress); err == nil {
		return a
	}
	if ap, err := netip.ParseAddrPort(listen.String()); err == nil && !ap.Addr().IsUnspecified() {
		return ap.Addr().Unmap()
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && ip.IsGlobalUnicast() {
					return ip.Unmap()
				}
			}
		}
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// code is the gRPC code of an API error (OK for nil).
func code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return apierr.FromError(err).Code()
}
