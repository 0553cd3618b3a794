package publish

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/client/retry"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// WithdrawTimeout bounds withdrawing the address on shutdown.
const WithdrawTimeout = 2 * time.Second

func (p *Publisher) ensureEndpoints(ctx context.Context, want *corev1.Endpoints) error {
	own := want.GetSubsets()[0]
	return retry.OnConflict(func() error {
		cur, err := p.Endpoints.Get(ctx, &metav1.GetOptions{Namespace: Namespace, Name: Name})
		if status.Code(err) == codes.NotFound {
			_, err = p.Endpoints.Create(ctx, want)
			if status.Code(err) == codes.AlreadyExists {
				return status.Error(codes.Aborted, "created concurrently")
			}
			return err
		}
		if err != nil {
			return err
		}
		subsets, changed := withAddress(cur.GetSubsets(), own, p.Spec.Address)
		if !changed && hasLabels(cur.GetMetadata(), want.GetMetadata()) {
			return nil
		}
		upd := proto.Clone(cur).(*corev1.Endpoints)
		upd.Subsets = subsets
		upd.Metadata.Labels = withLabels(cur.GetMetadata(), want.GetMetadata())
		_, err = p.Endpoints.Update(ctx, upd)
		return err
	})
}

// Withdraw removes the published address from the Endpoints (from the
// subset with its ports; a subset left without addresses goes), leaving
// the other instances' addresses. Missing Endpoints are no error.
func (p *Publisher) Withdraw(ctx context.Context) error {
	_, want := Desired(p.Spec)
	own := want.GetSubsets()[0]
	err := retry.OnConflict(func() error {
		cur, err := p.Endpoints.Get(ctx, &metav1.GetOptions{Namespace: Namespace, Name: Name})
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		subsets, changed := withoutAddress(cur.GetSubsets(), own, p.Spec.Address)
		if !changed {
			return nil
		}
		upd := proto.Clone(cur).(*corev1.Endpoints)
		upd.Subsets = subsets
		_, err = p.Endpoints.Update(ctx, upd)
		return err
	})
	if err != nil {
		return fmt.Errorf("withdraw %s from endpoints %s/%s: %w", p.Spec.Address, Namespace, Name, err)
	}
	return nil
}

// withAddress returns cur with ip ready in the subset whose ports are
// own's (own itself appended when there is none), and whether that
// changed anything. Other addresses and subsets stay.
func withAddress(cur []*corev1.EndpointSubset, own *corev1.EndpointSubset, ip string) ([]*corev1.EndpointSubset, bool) {
	out := cloneSubsets(cur)
	for _, s := range out {
		if !samePorts(s.GetPorts(), own.GetPorts()) {
			continue
		}
		if hasIP(s.GetAddresses(), ip) {
			return out, false
		}
		s.NotReadyAddresses = dropIP(s.GetNotReadyAddresses(), ip)
		s.Addresses = append(s.Addresses, &corev1.EndpointAddress{Ip: ip})
		return out, true
	}
	return append(out, proto.Clone(own).(*corev1.EndpointSubset)), true
}

// withoutAddress returns cur without ip in the subsets whose ports are
// own's, dropping subsets left empty, and whether that changed anything.
func withoutAddress(cur []*corev1.EndpointSubset, own *corev1.EndpointSubset, ip string) ([]*corev1.EndpointSubset, bool) {
	out := make([]*corev1.EndpointSubset, 0, len(cur))
	changed := false
	for _, s := range cloneSubsets(cur) {
		if samePorts(s.GetPorts(), own.GetPorts()) && (hasIP(s.GetAddresses(), ip) || hasIP(s.GetNotReadyAddresses(), ip)) {
			changed = true
			s.Addresses = dropIP(s.GetAddresses(), ip)
			s.NotReadyAddresses = dropIP(s.GetNotReadyAddresses(), ip)
			if len(s.Addresses) == 0 && len(s.NotReadyAddresses) == 0 {
				continue
			}
		}
		out = append(out, s)
	}
	return out, changed
}

func cloneSubsets(ss []*corev1.EndpointSubset) []*corev1.EndpointSubset {
	out := make([]*corev1.EndpointSubset, len(ss))
	for i, s := range ss {
		out[i] = proto.Clone(s).(*corev1.EndpointSubset)
	}
	return out
}

// samePorts reports whether a and b hold the same ports by name, port
// and protocol, in any order.
func samePorts(a, b []*corev1.EndpointPort) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y *corev1.EndpointPort) bool {
			return x.GetName() == y.GetName() && x.GetPort() == y.GetPort() && x.GetProtocol() == y.GetProtocol()
		}) {
			return false
		}
	}
	return true
}

func hasIP(as []*corev1.EndpointAddress, ip string) bool {
	return slices.ContainsFunc(as, func(a *corev1.EndpointAddress) bool { return a.GetIp() == ip })
}

func dropIP(as []*corev1.EndpointAddress, ip string) []*corev1.EndpointAddress {
	return slices.DeleteFunc(as, func(a *corev1.EndpointAddress) bool { return a.GetIp() == ip })
}
