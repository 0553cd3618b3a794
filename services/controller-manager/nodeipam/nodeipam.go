// Package nodeipam is the node IPAM controller: it gives every node
// without a spec.podCIDR the first free block of the cluster CIDR (a /24
// of 10.244.0.0/16 by default), and keeps the blocks nodes already have.
// The kubelet takes its pod addresses from its Node's spec.podCIDR.
package nodeipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "nodeipam"

// ErrFull: every block of the cluster CIDR is taken.
var ErrFull = errors.New("no free pod CIDR left in the cluster CIDR")

// ErrConflict: a node has a pod CIDR another node has too.
var ErrConflict = errors.New("pod CIDR already in use")

// Controller is the node IPAM controller.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	nodes  informer.Lister[*corev1.Node]
	alloc  *Allocator
	events *record.Recorder
	log    *zap.Logger
}

// New returns the controller allocating blocks of maskBits from cluster.
func New(cluster netip.Prefix, maskBits int, cs *clientset.Set, nodes *informer.Informer[*corev1.Node],
	events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	a, err := NewAllocator(cluster, maskBits)
	if err != nil {
		return nil, err
	}
	c := &Controller{cs: cs, nodes: nodes.Lister(), alloc: a, events: events, log: log}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	nodes.AddHandler(informer.HandlerFuncs[*corev1.Node]{
		AddFunc:    c.observe,
		UpdateFunc: func(_, n *corev1.Node) { c.observe(n) },
		DeleteFunc: func(n *corev1.Node) { c.alloc.Release(n.GetMetadata().GetName()) },
	})
	return c, nil
}

// observe records a node's block, or queues it for one.
func (c *Controller) observe(n *corev1.Node) {
	name := n.GetMetadata().GetName()
	if cidr := n.GetSpec().GetPodCidr(); cidr != "" {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			c.log.Warn("node has an unparseable pod CIDR", zap.String("node", name), zap.String("podCIDR", cidr), zap.Error(err))
			return
		}
		if err := c.alloc.Occupy(name, p); err != nil {
			// Both nodes keep the block (it is theirs: IPAM does not
			// rewrite a spec.podCIDR); it stays taken until both go.
			c.log.Warn("pod CIDR conflict", zap.String("node", name), zap.String("podCIDR", p.String()), zap.Error(err))
			c.events.Eventf(&corev1.ObjectReference{ApiVersion: "v1", Kind: "Node", Name: name, Uid: n.GetMetadata().GetUid()},
				record.Warning, "CIDRNotAvailable", "Node %s: %v", name, err)
		}
		return
	}
	c.Enqueue(name)
}

func (c *Controller) sync(ctx context.Context, name string) error {
	n, ok := c.nodes.Get("", name)
	if !ok || n.GetSpec().GetPodCidr() != "" {
		return nil
	}
	p, err := c.alloc.Allocate(name)
	if err != nil {
		c.events.Eventf(&corev1.ObjectReference{ApiVersion: "v1", Kind: "Node", Name: name, Uid: n.GetMetadata().GetUid()},
			record.Warning, "CIDRNotAvailable", "Node %s: %v", name, err)
		return fmt.Errorf("node %s: %w", name, err)
	}
	upd := proto.Clone(n).(*corev1.Node)
	if upd.Spec == nil {
		upd.Spec = &corev1.NodeSpec{}
	}
	upd.Spec.PodCidr, upd.Spec.PodCidrs = p.String(), []string{p.String()}
	if _, err := c.cs.Nodes().Update(ctx, upd); err != nil {
		if status.Code(err) == codes.NotFound {
			c.alloc.Release(name)
			return nil
		}
		return fmt.Errorf("node %s: set podCIDR %s: %w", name, p, err)
	}
	c.log.Info("pod CIDR allocated", zap.String("node", name), zap.String("podCIDR", p.String()))
	c.events.Eventf(&corev1.ObjectReference{ApiVersion: "v1", Kind: "Node", Name: name, Uid: n.GetMetadata().GetUid()},
		record.Normal, "CIDRAssignmentSucceeded", "Allocated pod CIDR %s", p)
	return nil
}

// Allocator hands out the blocks of a cluster CIDR, one per node. It
// tracks every node holding a block, so that a block two nodes claim
// (their own spec.podCIDR) stays taken until both release it.
type Allocator struct {
	cluster netip.Prefix
	bits    int
	mu      sync.Mutex
	byNode  map[string]netip.Prefix
	holders map[netip.Prefix]map[string]bool
}

// NewAllocator splits cluster (IPv4) into blocks of bits.
func NewAllocator(cluster netip.Prefix, bits int) (*Allocator, error) {
	cluster = cluster.Masked()
	if !cluster.Addr().Is4() || bits <= cluster.Bits() || bits > 30 {
		return nil, fmt.Errorf("node pod CIDRs of /%d do not fit cluster CIDR %s (IPv4 only)", bits, cluster)
	}
	return &Allocator{cluster: cluster, bits: bits, byNode: map[string]netip.Prefix{}, holders: map[netip.Prefix]map[string]bool{}}, nil
}

// Occupy records that node has block p (a kubelet's own, or allocated
// before a restart). When p is already another node's it is recorded all
// the same (the nodes have it) and ErrConflict names the others; only a
// node newly taking p reports it, not one observed again.
func (a *Allocator) Occupy(node string, p netip.Prefix) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p = p.Masked()
	if old, ok := a.byNode[node]; ok {
		if old == p {
			return nil
		}
		a.drop(node, old)
	}
	a.byNode[node] = p
	set := a.holders[p]
	if set == nil {
		set = map[string]bool{}
		a.holders[p] = set
	}
	var others []string
	for n := range set {
		others = append(others, n)
	}
	set[node] = true
	if len(others) > 0 {
		sort.Strings(others)
		return fmt.Errorf("pod CIDR %s of node %s is also node %s's: %w", p, node, strings.Join(others, ", "), ErrConflict)
	}
	return nil
}

// drop removes node from p's holders; a.mu held.
func (a *Allocator) drop(node string, p netip.Prefix) {
	delete(a.holders[p], node)
	if len(a.holders[p]) == 0 {
		delete(a.holders, p)
	}
}

// Allocate returns node's block, taking the first free one if it has none.
func (a *Allocator) Allocate(node string) (netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.byNode[node]; ok {
		return p, nil
	}
	n := 1 << (a.bits - a.cluster.Bits())
	base := a.cluster.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	size := uint32(1) << (32 - a.bits)
	for i := range n {
		v := start + uint32(i)*size
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), a.bits)
		if len(a.holders[p]) == 0 {
			a.holders[p] = map[string]bool{node: true}
			a.byNode[node] = p
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s: %w", a.cluster, ErrFull)
}

// Release frees node's hold on its block; the block is free once no node
// holds it.
func (a *Allocator) Release(node string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.byNode[node]; ok {
		a.drop(node, p)
		delete(a.byNode, node)
	}
}
