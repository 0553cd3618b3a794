// Package publish keeps the Service kube-system/kube-dns and its
// Endpoints as the cluster DNS server advertises itself: a Service
// without a selector at the well-known DNS IP, ports dns (53/UDP) and
// dns-tcp (53/TCP), and Endpoints naming the address the server listens
// on. Both are created when missing and put back when changed.
package publish

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tugboat-sh/tugboat/client/retry"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Namespace and Name name the published Service and Endpoints.
const (
	Namespace = "kube-system"
	Name      = "kube-dns"
)

// Spec is what is published.
type Spec struct {
	ServiceIP string // the Service's clusterIP, 10.96.0.10
	Address   string // the endpoint address the server listens on
	Port      int32  // the endpoint port, the Service's targetPort
}

// Desired returns the Service and Endpoints for spec.
func Desired(spec Spec) (*corev1.Service, *corev1.Endpoints) {
	meta := func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Namespace: Namespace, Name: Name,
			Labels: map[string]string{"k8s-app": "kube-dns", "kubernetes.io/name": "tug-dns"}}
	}
	target := structpb.NewNumberValue(float64(spec.Port))
	svc := &corev1.Service{ApiVersion: "v1", Kind: "Service", Metadata: meta(), Spec: &corev1.ServiceSpec{
		Type:      "ClusterIP",
		ClusterIp: spec.ServiceIP,
		Ports: []*corev1.ServicePort{
			{Name: "dns", Protocol: "UDP", Port: 53, TargetPort: target},
			{Name: "dns-tcp", Protocol: "TCP", Port: 53, TargetPort: proto.Clone(target).(*structpb.Value)},
		},
	}}
	ep := &corev1.Endpoints{ApiVersion: "v1", Kind: "Endpoints", Metadata: meta(), Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: spec.Address}},
		Ports: []*corev1.EndpointPort{
			{Name: "dns", Port: spec.Port, Protocol: "UDP"},
			{Name: "dns-tcp", Port: spec.Port, Protocol: "TCP"},
		},
	}}}
	return svc, ep
}

// Publisher writes the Service and Endpoints through the apiserver.
type Publisher struct {
	Services  corev1.ServiceServiceClient
	Endpoints corev1.EndpointsServiceClient
	Spec      Spec
	Log       *zap.Logger
}

// Ensure creates the Service and Endpoints, or updates them back to
// what they should be. The Endpoints are shared: each tug-dns instance
// (one per node) adds its own address to the subset with its ports and
// leaves the other instances' addresses alone.
func (p *Publisher) Ensure(ctx context.Context) error {
	svc, ep := Desired(p.Spec)
	if err := p.ensureService(ctx, svc); err != nil {
		return fmt.Errorf("publish service %s/%s: %w", Namespace, Name, err)
	}
	if err := p.ensureEndpoints(ctx, ep); err != nil {
		return fmt.Errorf("publish endpoints %s/%s: %w", Namespace, Name, err)
	}
	return nil
}

func (p *Publisher) ensureService(ctx context.Context, want *corev1.Service) error {
	return retry.OnConflict(func() error {
		cur, err := p.Services.Get(ctx, &metav1.GetOptions{Namespace: Namespace, Name: Name})
		if status.Code(err) == codes.NotFound {
			_, err = p.Services.Create(ctx, want)
			if status.Code(err) == codes.AlreadyExists {
				return status.Error(codes.Aborted, "created concurrently") // read it again
			}
			return err
		}
		if err != nil {
			return err
		}
		if ip := cur.GetSpec().GetClusterIp(); ip != want.GetSpec().GetClusterIp() {
			return fmt.Errorf("it has clusterIP %q, not %q, and a clusterIP cannot change: delete it", ip, want.GetSpec().GetClusterIp())
		}
		if proto.Equal(cur.GetSpec(), mergeSpec(cur.GetSpec(), want.GetSpec())) && hasLabels(cur.GetMetadata(), want.GetMetadata()) {
			return nil
		}
		upd := proto.Clone(cur).(*corev1.Service)
		upd.Spec = mergeSpec(cur.GetSpec(), want.GetSpec())
		upd.Metadata.Labels = withLabels(cur.GetMetadata(), want.GetMetadata())
		_, err = p.Services.Update(ctx, upd)
		return err
	})
}

// mergeSpec is cur with the fields publishing owns set as in want; the
// rest (defaults, allocations) stays.
func mergeSpec(cur, want *corev1.ServiceSpec) *corev1.ServiceSpec {
	s := proto.Clone(cur).(*corev1.ServiceSpec)
	s.Selector = nil
	s.Type = want.GetType()
	ports := make([]*corev1.ServicePort, len(want.GetPorts()))
	for i, wp := range want.GetPorts() {
		np := proto.Clone(wp).(*corev1.ServicePort)
		for _, cp := range cur.GetPorts() { // keep defaulted fields
			if cp.GetName() == wp.GetName() && cp.GetPort() == wp.GetPort() && cp.GetProtocol() == wp.GetProtocol() &&
				proto.Equal(cp.GetTargetPort(), wp.GetTargetPort()) {
				np = cp
			}
		}
		ports[i] = np
	}
	s.Ports = ports
	return s
}

func hasLabels(cur, want *metav1.ObjectMeta) bool {
	for k, v := range want.GetLabels() {
		if cur.GetLabels()[k] != v {
			return false
		}
	}
	return true
}

func withLabels(cur, want *metav1.ObjectMeta) map[string]string {
	l := maps.Clone(cur.GetLabels())
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, want.GetLabels())
	return l
}

// Run ensures the objects now, whenever changed fires (the informers saw
// them change or vanish) and every period, retrying failures with a
// growing pause, until ctx ends; then it withdraws its address from the
// Endpoints, best effort, within WithdrawTimeout.
func (p *Publisher) Run(ctx context.Context, changed <-chan struct{}, period time.Duration) {
	pause := time.Second
	for {
		wait := period
		if err := p.Ensure(ctx); err != nil {
			if ctx.Err() != nil {
				p.withdrawOnExit(ctx)
				return
			}
			p.Log.Warn("dns publish failed", zap.Error(err), zap.Duration("retryIn", pause))
			wait, pause = pause, min(2*pause, period)
		} else {
			pause = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.withdrawOnExit(ctx)
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// withdrawOnExit withdraws the address after ctx ended, with a context
// of its own bounded by WithdrawTimeout.
func (p *Publisher) withdrawOnExit(ctx context.Context) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), WithdrawTimeout)
	defer cancel()
	if err := p.Withdraw(wctx); err != nil {
		p.Log.Warn("dns withdraw failed", zap.Error(err), zap.String("address", p.Spec.Address))
		return
	}
	p.Log.Info("dns withdrawn", zap.String("address", p.Spec.Address))
}
