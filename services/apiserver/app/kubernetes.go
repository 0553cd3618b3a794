package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// kubernetesName names the Service in front of the apiserver itself.
const kubernetesName = "kubernetes"

// kubernetesService keeps the `kubernetes` Service in `default` (the
// range's first address, port 443 named https) and its Endpoints pointing
// at this apiserver.
type kubernetesService struct {
	reg  *registry.Registry
	ip   netip.Addr // the Service's cluster IP
	addr netip.Addr // the Endpoints' address
	port int        // the Endpoints' port
	log  *zap.Logger
}

// run reconciles every interval until ctx ends, so that the Service and
// Endpoints come back when deleted or changed.
func (k kubernetesService) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := k.reconcile(ctx); err != nil && ctx.Err() == nil {
			k.log.Warn("reconciling the kubernetes service failed", zap.Error(err))
		}
	}
}

// reconcile creates, or brings back in line, the Service and Endpoints;
// what already matches is not written.
func (k kubernetesService) reconcile(ctx context.Context) error {
	spec := &corev1.ServiceSpec{
		Type:      "ClusterIP",
		ClusterIp: k.ip.String(),
		Ports:     []*corev1.ServicePort{{Name: "https", Port: 443, Protocol: "TCP", TargetPort: structpb.NewNumberValue(float64(k.port))}},
	}
	meta := &metav1.ObjectMeta{Name: kubernetesName, Namespace: "default", Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}}
	svcChanged, err := ensure(ctx, k.reg.Resource("services"), &corev1.Service{Metadata: meta, Spec: spec}, func(cur proto.Message) {
		s := cur.(*corev1.Service).GetSpec()
		if s.GetClusterIp() != k.ip.String() {
			k.log.Warn("the kubernetes service has another cluster IP than the range's first address", zap.String("clusterIP", s.GetClusterIp()), zap.String("want", k.ip.String()))
		}
		s.Ports = spec.Ports
	})
	if err != nil {
		return fmt.Errorf("reconcile service default/kubernetes: %w", err)
	}
	subsets := []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: k.addr.String()}},
		Ports:     []*corev1.EndpointPort{{Name: "https", Port: int32(k.port), Protocol: "TCP"}},
	}}
	epChanged, err := ensure(ctx, k.reg.Resource("endpoints"), &corev1.Endpoints{Metadata: proto.Clone(meta).(*metav1.ObjectMeta), Subsets: subsets}, func(cur proto.Message) {
		cur.(*corev1.Endpoints).Subsets = subsets
	})
	if err != nil {
		return fmt.Errorf("reconcile endpoints default/kubernetes: %w", err)
	}
	if svcChanged || epChanged {
		k.log.Info("kubernetes service reconciled", zap.String("clusterIP", k.ip.String()), zap.String("endpoint", net.JoinHostPort(k.addr.String(), strconv.Itoa(k.port))))
	}
	return nil
}

// ensure creates obj in `default` when missing, else applies fix to the
// stored one (written only if that changed it); it says whether anything
// was written.
func ensure(ctx context.Context, res *registry.Resource, obj proto.Message, fix func(cur proto.Message)) (bool, error) {
	cur, err := res.Get(ctx, &metav1.GetOptions{Namespace: "default", Name: kubernetesName})
	if code(err) == codes.NotFound {
		_, err = res.Create(ctx, obj)
		if code(err) != codes.AlreadyExists {
			return err == nil, err
		}
		if cur, err = res.Get(ctx, &metav1.GetOptions{Namespace: "default", Name: kubernetesName}); err != nil {
			return false, err
		}
	}
	if err != nil {
		return false, err
	}
	next, err := res.Mutate(ctx, "default", kubernetesName, func(m proto.Message) error { fix(m); return nil })
	if err != nil {
		return false, err
	}
	return resourceVersion(next) != resourceVersion(cur), nil
}

// resourceVersion of a stored Service or Endpoints.
func resourceVersion(m proto.Message) string {
	if o, ok := m.(interface{ GetMetadata() *metav1.ObjectMeta }); ok {
		return o.GetMetadata().GetResourceVersion()
	}
	return ""
}
