package allocator

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

var _ registry.Allocator = (*Services)(nil)

// Services allocates what Services hold: a cluster IP unless headless or
// ExternalName, and node ports for NodePort and LoadBalancer Services.
type Services struct {
	IPs   *IPs
	Ports *Ports
	Log   *zap.Logger

	// suspects Repair found at start, for RunRepair's first pass
	ipSuspects, portSuspects map[int]bool
}

// held is what one Service holds.
type held struct {
	ip    netip.Addr // invalid: none
	ports []int
}

// needsIP says whether the Service holds a cluster IP.
func needsIP(s *corev1.ServiceSpec) bool {
	return s.GetType() != "ExternalName" && s.GetClusterIp() != "None"
}

// needsNodePorts says whether the Service holds node ports.
func needsNodePorts(s *corev1.ServiceSpec) bool {
	return s.GetType() == "NodePort" || s.GetType() == "LoadBalancer"
}

// claims returns the cluster IP and node ports a stored Service carries,
// in these ranges or not. An update that keeps one of them is not a new
// request for it: no range check, no allocation (as in Kubernetes, where
// Services keep their values when the ranges are reconfigured).
func claims(svc *corev1.Service) held {
	var h held
	s := svc.GetSpec()
	if needsIP(s) {
		if ip, err := netip.ParseAddr(s.GetClusterIp()); err == nil {
			h.ip = ip
		}
	}
	if needsNodePorts(s) {
		for _, p := range s.GetPorts() {
			if np := int(p.GetNodePort()); np != 0 {
				h.ports = append(h.ports, np)
			}
		}
	}
	return h
}

// holds returns what a stored Service holds in these ranges: its claims
// that the bitmaps track.
func (a *Services) holds(svc *corev1.Service) held {
	h := claims(svc)
	if h.ip.IsValid() && !a.IPs.Contains(h.ip) {
		h.ip = netip.Addr{}
	}
	h.ports = slices.DeleteFunc(h.ports, func(np int) bool { return !a.Ports.Range().Contains(np) })
	return h
}

// Allocation is what one create or update took, to be kept or given back.
type Allocation struct {
	a        *Services
	taken    held // newly allocated: freed by Revert
	released held // held by the old object only: freed by Commit
}

// Commit frees what the old object held and the new one does not; call it
// once the new object is stored.
func (t *Allocation) Commit(ctx context.Context) { t.a.release(ctx, t.released) }

// Revert frees what was allocated for an object that was not stored.
func (t *Allocation) Revert(ctx context.Context) { t.a.release(ctx, t.taken) }

// release frees h; a failure leaks until the next repair, and is logged.
func (a *Services) release(ctx context.Context, h held) {
	ctx = context.WithoutCancel(ctx)
	if h.ip.IsValid() {
		if err := a.IPs.Release(ctx, h.ip); err != nil {
			a.Log.Warn("releasing a cluster IP failed", zap.String("ip", h.ip.String()), zap.Error(err))
		}
	}
	if len(h.ports) > 0 {
		if err := a.Ports.Release(ctx, h.ports...); err != nil {
			a.Log.Warn("releasing node ports failed", zap.Ints("ports", h.ports), zap.Error(err))
		}
	}
}

// Allocate reserves what next needs that cur (nil on create) does not
// hold, filling next's clusterIP, clusterIPs and nodePorts. On error
// nothing stays allocated.
func (a *Services) Allocate(ctx context.Context, cur, next proto.Message) (registry.Allocation, error) {
	n := next.(*corev1.Service)
	var old, oldHeld held // what cur carries; of that, what the ranges track
	if cur != nil {
		old = claims(cur.(*corev1.Service))
		oldHeld = a.holds(cur.(*corev1.Service))
	}
	if err := a.check(ctx, n, old); err != nil {
		return nil, err
	}
	t := &Allocation{a: a}
	if err := a.allocateIP(ctx, n, old, t); err != nil {
		t.Revert(ctx)
		return nil, err
	}
	if err := a.allocatePorts(ctx, n, old, t); err != nil {
		t.Revert(ctx)
		return nil, err
	}
	now := a.holds(n)
	if oldHeld.ip.IsValid() && oldHeld.ip != now.ip {
		t.released.ip = oldHeld.ip
	}
	for _, p := range oldHeld.ports {
		if !slices.Contains(now.ports, p) {
			t.released.ports = append(t.released.ports, p)
		}
	}
	return t, nil
}

// check refuses explicit values outside the ranges or already taken
// without writing anything, so that bad input leaves etcd untouched. (The
// allocation itself checks again: a concurrent request may take a value
// between check and allocation.)
func (a *Services) check(ctx context.Context, svc *corev1.Service, old held) error {
	s, name := svc.GetSpec(), svc.GetMetadata().GetName()
	if needsIP(s) && s.GetClusterIp() != "" {
		ip, err := netip.ParseAddr(s.GetClusterIp())
		if err != nil {
			return invalid(name, "spec.clusterIP", s.GetClusterIp(), "must be empty, 'None', or a valid IP address")
		}
		if ip != old.ip {
			i, ok := a.IPs.offset(ip)
			if !ok {
				return invalid(name, "spec.clusterIP", s.GetClusterIp(), fmt.Sprintf("provided IP is not in the valid range. The range of valid IPs is %s", a.IPs.Range()))
			}
			bits, _, err := a.IPs.bitmap.load(ctx)
			if err != nil {
				return fmt.Errorf("read the cluster IP range: %w", err)
			}
			if get(bits, i) {
				return invalid(name, "spec.clusterIP", s.GetClusterIp(), "provided IP is already allocated")
			}
		}
	}
	if !needsNodePorts(s) {
		return nil
	}
	var bits []byte
	for i, p := range s.GetPorts() {
		np := int(p.GetNodePort())
		if np == 0 || slices.Contains(old.ports, np) {
			continue
		}
		field := fmt.Sprintf("spec.ports[%d].nodePort", i)
		if !a.Ports.Range().Contains(np) {
			return invalid(name, field, np, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", a.Ports.Range()))
		}
		if bits == nil {
			var err error
			if bits, _, err = a.Ports.bitmap.load(ctx); err != nil {
				return fmt.Errorf("read the node port range: %w", err)
			}
		}
		if get(bits, np-a.Ports.Range().Base) {
			return invalid(name, field, np, "provided port is already allocated")
		}
	}
	return nil
}

func (a *Services) allocateIP(ctx context.Context, svc *corev1.Service, old held, t *Allocation) error {
	s := svc.GetSpec()
	if !needsIP(s) {
		if s.GetClusterIp() == "None" {
			s.ClusterIps = []string{"None"}
		}
		return nil
	}
	name := svc.GetMetadata().GetName()
	if s.GetClusterIp() == "" {
		ip, err := a.IPs.AllocateNext(ctx)
		if errors.Is(err, ErrFull) {
			return apierr.Exhausted("failed to allocate a cluster IP for service %q: the service cluster IP range %s is full", name, a.IPs.Range())
		}
		if err != nil {
			return fmt.Errorf("allocate a cluster IP: %w", err)
		}
		t.taken.ip = ip
		s.ClusterIp = ip.String()
		s.ClusterIps = []string{s.ClusterIp}
		return nil
	}
	ip, err := netip.ParseAddr(s.GetClusterIp())
	if err != nil {
		return invalid(name, "spec.clusterIP", s.GetClusterIp(), "must be empty, 'None', or a valid IP address")
	}
	s.ClusterIps = []string{s.ClusterIp}
	if ip == old.ip {
		return nil
	}
	if !a.IPs.Contains(ip) {
		return invalid(name, "spec.clusterIP", s.GetClusterIp(), fmt.Sprintf("provided IP is not in the valid range. The range of valid IPs is %s", a.IPs.Range()))
	}
	err = a.IPs.Allocate(ctx, ip)
	if errors.Is(err, ErrAllocated) {
		return invalid(name, "spec.clusterIP", s.GetClusterIp(), "provided IP is already allocated")
	}
	if err != nil {
		return fmt.Errorf("allocate cluster IP %s: %w", ip, err)
	}
	t.taken.ip = ip
	return nil
}

func (a *Services) allocatePorts(ctx context.Context, svc *corev1.Service, old held, t *Allocation) error {
	s := svc.GetSpec()
	if !needsNodePorts(s) {
		return nil
	}
	name := svc.GetMetadata().GetName()
	shareNodePorts(s.GetPorts())
	var mine []int // node ports this Service uses, kept or taken
	for i, p := range s.GetPorts() {
		np := int(p.GetNodePort())
		field := fmt.Sprintf("spec.ports[%d].nodePort", i)
		switch {
		case np == 0 && shared(s.GetPorts()[:i], p.GetPort()) != 0:
			// same port number as an earlier one (another protocol)
			p.NodePort = shared(s.GetPorts()[:i], p.GetPort())
		case np == 0:
			got, err := a.Ports.AllocateNext(ctx)
			if errors.Is(err, ErrFull) {
				return apierr.Exhausted("failed to allocate a node port for service %q: the node port range %s is full", name, a.Ports.Range())
			}
			if err != nil {
				return fmt.Errorf("allocate a node port: %w", err)
			}
			t.taken.ports = append(t.taken.ports, got)
			p.NodePort = int32(got)
		case slices.Contains(mine, np) || slices.Contains(old.ports, np):
			// the same port again (another protocol), or kept
		case !a.Ports.Range().Contains(np):
			return invalid(name, field, np, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", a.Ports.Range()))
		default:
			err := a.Ports.Allocate(ctx, np)
			if errors.Is(err, ErrAllocated) {
				return invalid(name, field, np, "provided port is already allocated")
			}
			if err != nil {
				return fmt.Errorf("allocate node port %d: %w", np, err)
			}
			t.taken.ports = append(t.taken.ports, np)
		}
		mine = append(mine, int(p.NodePort))
	}
	return nil
}

// shareNodePorts gives a port without a node port the node port another
// port of the same number asks for, so that, as in Kubernetes, 53/UDP and
// 53/TCP share one node port.
func shareNodePorts(ports []*corev1.ServicePort) {
	for _, p := range ports {
		if p.GetNodePort() == 0 {
			p.NodePort = shared(ports, p.GetPort())
		}
	}
}

// shared is the node port of the first of ports with this port number that
// has one, or 0.
func shared(ports []*corev1.ServicePort, port int32) int32 {
	for _, p := range ports {
		if p.GetPort() == port && p.GetNodePort() != 0 {
			return p.GetNodePort()
		}
	}
	return 0
}

// Release frees what a deleted Service held.
func (a *Services) Release(ctx context.Context, obj proto.Message) {
	a.release(ctx, a.holds(obj.(*corev1.Service)))
}

// Repair brings both bitmaps in line with the stored Services at start:
// what they hold is marked used; values marked but held by none (leaks of
// failed requests, or an allocation another apiserver has not stored yet)
// are left for RunRepair, which frees them if its first pass finds them
// still unheld. A bitmap of another range is rebuilt. Two Services claiming
// one value are logged; the first keeps it. It must run before the server
// takes requests, and before RunRepair.
func (a *Services) Repair(ctx context.Context, svcs []*corev1.Service) error {
	ips := map[int]bool{}
	ports := map[int]bool{}
	ipOwner := map[netip.Addr]string{}
	portOwner := map[int]string{}
	for _, svc := range svcs {
		key := svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
		h := a.holds(svc)
		if h.ip.IsValid() {
			if o, dup := ipOwner[h.ip]; dup {
				a.Log.Error("two services hold one cluster IP", zap.String("ip", h.ip.String()), zap.String("service", key), zap.String("owner", o))
			} else {
				ipOwner[h.ip] = key
				i, _ := a.IPs.offset(h.ip)
				ips[i] = true
			}
		} else if s := svc.GetSpec(); needsIP(s) && s.GetClusterIp() != "" {
			a.Log.Warn("a service's cluster IP is outside the service range", zap.String("service", key), zap.String("ip", s.GetClusterIp()), zap.String("range", a.IPs.Range().String()))
		}
		for _, p := range uniqueInts(h.ports) {
			if o, dup := portOwner[p]; dup {
				a.Log.Error("two services hold one node port", zap.Int("port", p), zap.String("service", key), zap.String("owner", o))
				continue
			}
			portOwner[p] = key
			ports[p-a.Ports.Range().Base] = true
		}
	}
	var err error
	if a.ipSuspects, err = a.IPs.bitmap.Start(ctx, ips); err != nil {
		return fmt.Errorf("repair the cluster IP range: %w", err)
	}
	if a.portSuspects, err = a.Ports.bitmap.Start(ctx, ports); err != nil {
		return fmt.Errorf("repair the node port range: %w", err)
	}
	return nil
}

// used returns the offsets the Services hold in each range.
func (a *Services) used(svcs []*corev1.Service) (ips, ports map[int]bool) {
	ips, ports = map[int]bool{}, map[int]bool{}
	for _, svc := range svcs {
		h := a.holds(svc)
		if h.ip.IsValid() {
			i, _ := a.IPs.offset(h.ip)
			ips[i] = true
		}
		for _, p := range h.ports {
			ports[p-a.Ports.Range().Base] = true
		}
	}
	return ips, ports
}

// RunRepair repairs the ranges every interval until ctx ends, as
// Kubernetes' repair controllers do: values the Services hold are marked,
// values marked but held by no Service on two passes in a row (a release
// that failed) are freed. list reads the stored Services.
func (a *Services) RunRepair(ctx context.Context, interval time.Duration, list func(context.Context) ([]*corev1.Service, error)) {
	ipSuspects, portSuspects := a.ipSuspects, a.portSuspects
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		svcs, err := list(ctx)
		if err != nil {
			a.Log.Warn("listing services for the allocator repair failed", zap.Error(err))
			continue
		}
		ips, ports := a.used(svcs)
		var freedIPs, freedPorts int
		ipSuspects, freedIPs, err = a.IPs.bitmap.Reconcile(ctx, ips, ipSuspects)
		if err != nil {
			a.Log.Warn("repairing the cluster IP range failed", zap.Error(err))
		}
		portSuspects, freedPorts, err = a.Ports.bitmap.Reconcile(ctx, ports, portSuspects)
		if err != nil {
			a.Log.Warn("repairing the node port range failed", zap.Error(err))
		}
		if freedIPs+freedPorts > 0 {
			a.Log.Info("allocator repair freed leaked values", zap.Int("clusterIPs", freedIPs), zap.Int("nodePorts", freedPorts))
		}
	}
}

func invalid(name, field string, value any, detail string) error {
	return apierr.Invalid("Service", name, validation.List{{Field: field, Type: validation.Invalid, Value: value, Detail: detail}})
}

func uniqueInts(s []int) []int {
	var out []int
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
