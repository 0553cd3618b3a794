// Package node keeps the kubelet's Node object: it registers the node
// (capacity, allocatable, labels, addresses, system info, the kubelet's
// endpoint), renews its Lease in kube-node-lease every 10 s and keeps the
// Ready condition true while the runtime is healthy.
package node

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/retry"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Config describes the node.
type Config struct {
	Name    string
	IP      string // the InternalIP the apiserver reaches the kubelet on
	Port    int32  // the kubelet's gRPC port (logs, exec); 0 when it serves none
	PodCIDR string
	Labels  map[string]string
	// Capacity is cpu, memory, pods (and anything else); allocatable is
	// the same (no reservations yet).
	Capacity map[string]string
	Info     *corev1.NodeSystemInfo
	// LeaseDuration is what the Lease promises; RenewInterval how often it
	// is renewed.
	LeaseDuration time.Duration
	RenewInterval time.Duration
	// StatusInterval is the longest time between two status updates when
	// nothing changed.
	StatusInterval time.Duration
}

// Health reports whether the runtime is ready, and why not.
type Health func(ctx context.Context) (ready bool, reason, message string)

// Agent keeps one Node and its Lease.
type Agent struct {
	cfg    Config
	cs     *clientset.Set
	health Health
	log    *zap.Logger
	last   *corev1.NodeStatus
	lastAt time.Time
	uid    string
}

// New returns an Agent; call Register, then Run.
func New(cfg Config, cs *clientset.Set, health Health, log *zap.Logger) *Agent {
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	if cfg.RenewInterval == 0 {
		cfg.RenewInterval = 10 * time.Second
	}
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = time.Minute
	}
	return &Agent{cfg: cfg, cs: cs, health: health, log: log}
}

// Register creates the Node, or brings an existing one up to date.
func (a *Agent) Register(ctx context.Context) error {
	want := &corev1.Node{
		ApiVersion: "v1", Kind: "Node",
		Metadata: &metav1.ObjectMeta{Name: a.cfg.Name, Labels: maps.Clone(a.cfg.Labels)},
		Spec:     &corev1.NodeSpec{PodCidr: a.cfg.PodCIDR},
	}
	if a.cfg.PodCIDR != "" {
		want.Spec.PodCidrs = []string{a.cfg.PodCIDR}
	}
	n, err := a.cs.Nodes().Create(ctx, want)
	if status.Code(err) == codes.AlreadyExists {
		n, err = a.adopt(ctx, want)
	}
	if err != nil {
		return fmt.Errorf("register node %s: %w", a.cfg.Name, err)
	}
	a.uid = n.GetMetadata().GetUid()
	a.log.Info("node registered", zap.String("node", a.cfg.Name), zap.String("uid", a.uid))
	// The controller-manager may write the new Node meanwhile (its pod
	// CIDR, taints): a conflict is retried on a fresh copy.
	fresh := n
	return retry.OnConflict(func() error {
		if fresh == nil {
			var err error
			if fresh, err = a.cs.Nodes().Get(ctx, &metav1.GetOptions{Name: a.cfg.Name}); err != nil {
				return fmt.Errorf("register node %s: %w", a.cfg.Name, err)
			}
		}
		err := a.updateStatus(ctx, fresh, true)
		fresh = nil
		return err
	})
}

// adopt updates an existing Node's labels and pod CIDR to this kubelet's.
func (a *Agent) adopt(ctx context.Context, want *corev1.Node) (*corev1.Node, error) {
	for {
		cur, err := a.cs.Nodes().Get(ctx, &metav1.GetOptions{Name: a.cfg.Name})
		if err != nil {
			return nil, err
		}
		next := proto.Clone(cur).(*corev1.Node)
		if next.Metadata.Labels == nil {
			next.Metadata.Labels = map[string]string{}
		}
		maps.Copy(next.Metadata.Labels, want.Metadata.Labels)
		if next.Spec == nil {
			next.Spec = &corev1.NodeSpec{}
		}
		if next.Spec.PodCidr == "" {
			next.Spec.PodCidr, next.Spec.PodCidrs = want.Spec.PodCidr, want.Spec.PodCidrs
		}
		if proto.Equal(next, cur) {
			return cur, nil
		}
		out, err := a.cs.Nodes().Update(ctx, next)
		if status.Code(err) == codes.Aborted || status.Code(err) == codes.AlreadyExists {
			continue
		}
		return out, err
	}
}

// Run renews the Lease and the node's status until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	tick := time.NewTicker(a.cfg.RenewInterval)
	defer tick.Stop()
	for {
		if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("lease not renewed", zap.Error(err))
		}
		if err := a.syncStatus(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("node status not updated", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (a *Agent) syncStatus(ctx context.Context) error {
	n, err := a.cs.Nodes().Get(ctx, &metav1.GetOptions{Name: a.cfg.Name})
	if status.Code(err) == codes.NotFound {
		// Deleted under us: register again, like Kubernetes' kubelet.
		return a.Register(ctx)
	}
	if err != nil {
		return err
	}
	return a.updateStatus(ctx, n, false)
}

// updateStatus writes the status when it changed or is due.
func (a *Agent) updateStatus(ctx context.Context, n *corev1.Node, force bool) error {
	now := time.Now()
	st := a.status(ctx, n.GetStatus(), now)
	// Compared with the server's copy: a change made by someone else (Ready
	// set to Unknown by the node controller) is corrected at once.
	if !force && a.last != nil && n.GetStatus() != nil && sameStatus(n.GetStatus(), st) && now.Sub(a.lastAt) < a.cfg.StatusInterval {
		return nil
	}
	next := proto.Clone(n).(*corev1.Node)
	next.Status = st
	if _, err := a.cs.Nodes().UpdateStatus(ctx, next); err != nil {
		return err
	}
	a.last, a.lastAt = st, now
	return nil
}

// status builds the node's status; transition times carry over from prev.
func (a *Agent) status(ctx context.Context, prev *corev1.NodeStatus, now time.Time) *corev1.NodeStatus {
	ready, reason, message := a.health(ctx)
	readyStatus := "True"
	if !ready {
		readyStatus = "False"
	} else {
		reason, message = "KubeletReady", "kubelet is posting ready status"
	}
	conds := []*corev1.NodeCondition{
		{Type: "MemoryPressure", Status: "False", Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: "DiskPressure", Status: "False", Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: "PIDPressure", Status: "False", Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: "Ready", Status: readyStatus, Reason: reason, Message: message},
	}
	ts := timestamppb.New(now.Truncate(time.Second))
	for _, c := range conds {
		c.LastHeartbeatTime, c.LastTransitionTime = ts, ts
		for _, p := range prev.GetConditions() {
			if p.GetType() == c.Type && p.GetStatus() == c.Status && p.GetLastTransitionTime() != nil {
				c.LastTransitionTime = p.GetLastTransitionTime()
			}
		}
	}
	addrs := []*corev1.NodeAddress{{Type: "Hostname", Address: a.cfg.Name}}
	if a.cfg.IP != "" {
		addrs = append([]*corev1.NodeAddress{{Type: "InternalIP", Address: a.cfg.IP}}, addrs...)
	}
	return &corev1.NodeStatus{
		Capacity:        maps.Clone(a.cfg.Capacity),
		Allocatable:     maps.Clone(a.cfg.Capacity),
		Phase:           "",
		Conditions:      conds,
		Addresses:       addrs,
		DaemonEndpoints: &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: a.cfg.Port}},
		NodeInfo:        a.cfg.Info,
		Images:          prev.GetImages(),
	}
}

// sameStatus compares two statuses without their heartbeat times.
func sameStatus(a, b *corev1.NodeStatus) bool {
	strip := func(s *corev1.NodeStatus) *corev1.NodeStatus {
		s = proto.Clone(s).(*corev1.NodeStatus)
		for _, c := range s.Conditions {
			c.LastHeartbeatTime, c.LastTransitionTime = nil, nil
		}
		return s
	}
	return proto.Equal(strip(a), strip(b))
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (a *Agent) renewLease(ctx context.Context) error {
	now := timestamppb.Now()
	leases := a.cs.Leases()
	cur, err := leases.Get(ctx, &metav1.GetOptions{Namespace: "kube-node-lease", Name: a.cfg.Name})
	if status.Code(err) == codes.NotFound {
		l := &coordinationv1.Lease{
			ApiVersion: "coordination.k8s.io/v1", Kind: "Lease",
			Metadata: &metav1.ObjectMeta{Namespace: "kube-node-lease", Name: a.cfg.Name},
			Spec: &coordinationv1.LeaseSpec{
				HolderIdentity:       proto.String(a.cfg.Name),
				LeaseDurationSeconds: proto.Int32(int32(a.cfg.LeaseDuration / time.Second)),
				AcquireTime:          now,
				RenewTime:            now,
			},
		}
		if a.uid != "" {
			l.Metadata.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "v1", Kind: "Node", Name: a.cfg.Name, Uid: a.uid}}
		}
		_, err = leases.Create(ctx, l)
		return err
	}
	if err != nil {
		return err
	}
	next := proto.Clone(cur).(*coordinationv1.Lease)
	if next.Spec == nil {
		next.Spec = &coordinationv1.LeaseSpec{}
	}
	next.Spec.HolderIdentity = proto.String(a.cfg.Name)
	next.Spec.LeaseDurationSeconds = proto.Int32(int32(a.cfg.LeaseDuration / time.Second))
	next.Spec.RenewTime = now
	_, err = leases.Update(ctx, next)
	return err
}
