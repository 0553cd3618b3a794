package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/allocator"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// kubernetesService is the Service in front of the apiserver itself.
const kubernetesService = "kubernetes"

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

// reconcileKubernetesService creates, or brings back in line, the
// `kubernetes` Service in `default` (the range's first address, port 443
// named https) and its Endpoints pointing at this apiserver.
func reconcileKubernetesService(ctx context.Context, reg *registry.Registry, ip netip.Addr, addr netip.Addr, port int, log *zap.Logger) error {
	spec := &corev1.ServiceSpec{
		Type:      "ClusterIP",
		ClusterIp: ip.String(),
		Ports:     []*corev1.ServicePort{{Name: "https", Port: 443, Protocol: "TCP", TargetPort: structpb.NewNumberValue(float64(port))}},
	}
	meta := &metav1.ObjectMeta{Name: kubernetesService, Namespace: "default", Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}}
	svcs := reg.Resource("services")
	_, err := svcs.Get(ctx, &metav1.GetOptions{Namespace: "default", Name: kubernetesService})
	if code(err) == codes.NotFound {
		_, err = svcs.Create(ctx, &corev1.Service{Metadata: meta, Spec: spec})
	}
	if code(err) == codes.AlreadyExists || err == nil {
		_, err = svcs.Mutate(ctx, "default", kubernetesService, func(cur proto.Message) error {
			s := cur.(*corev1.Service).GetSpec()
			if s.GetClusterIp() != ip.String() {
				log.Warn("the kubernetes service has another cluster IP than the range's first address", zap.String("clusterIP", s.GetClusterIp()), zap.String("want", ip.String()))
			}
			s.Ports = spec.Ports
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("reconcile service default/kubernetes: %w", err)
	}
	subsets := []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: addr.String()}},
		Ports:     []*corev1.EndpointPort{{Name: "https", Port: int32(port), Protocol: "TCP"}},
	}}
	eps := reg.Resource("endpoints")
	_, err = eps.Create(ctx, &corev1.Endpoints{Metadata: proto.Clone(meta).(*metav1.ObjectMeta), Subsets: subsets})
	if code(err) == codes.AlreadyExists {
		_, err = eps.Mutate(ctx, "default", kubernetesService, func(cur proto.Message) error {
			cur.(*corev1.Endpoints).Subsets = subsets
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("reconcile endpoints default/kubernetes: %w", err)
	}
	log.Info("kubernetes service reconciled", zap.String("clusterIP", ip.String()), zap.String("endpoint", net.JoinHostPort(addr.String(), strconv.Itoa(port))))
	return nil
}

// code is the gRPC code of an API error (OK for nil).
func code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return apierr.FromError(err).Code()
}
