package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/taints"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (c *Controller) sync(ctx context.Context, name string) error {
	n, ok := c.nodes.Get("", name)
	if !ok {
		return c.cleanGone(ctx, name)
	}
	now := c.cfg.Now()
	age := now.Sub(c.heartbeat(n))
	ready := readyStatus(n)
	if age > c.cfg.GracePeriod && ready != "Unknown" {
		var err error
		if n, err = c.markUnknown(ctx, n, now); err != nil {
			return err
		}
		ready = "Unknown"
	} else if age <= c.cfg.GracePeriod {
		c.EnqueueAfter(name, c.cfg.GracePeriod-age+100*time.Millisecond)
	}
	var notReadyErr error
	if ready == "Unknown" {
		// On every sync, not only the transition: a pod update that
		// failed, or a pod bound since, is marked too.
		notReadyErr = c.markPodsNotReady(ctx, name, now)
	}
	n, err := c.syncTaints(ctx, n, ready, now)
	if err != nil {
		return errors.Join(notReadyErr, err)
	}
	return errors.Join(notReadyErr, c.evict(ctx, n, now))
}

// cleanGone deletes the pods still bound to a node that was deleted (as
// Kubernetes' pod garbage collector does, at once: no kubelet will
// confirm a graceful deletion) and drops the node from the pod index
// once none is left.
func (c *Controller) cleanGone(ctx context.Context, name string) error {
	c.mu.Lock()
	gone := c.gone[name]
	c.mu.Unlock()
	if !gone {
		return nil
	}
	pods := c.podsOn(name)
	if len(pods) == 0 {
		c.mu.Lock()
		if len(c.byNode[name]) == 0 {
			delete(c.byNode, name)
			delete(c.gone, name)
		}
		c.mu.Unlock()
		return nil
	}
	var errs []error
	for _, p := range pods {
		m := p.GetMetadata()
		_, err := c.cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(), GracePeriodSeconds: proto.Int32(0),
			Preconditions: &metav1.Preconditions{Uid: proto.String(m.GetUid())}})
		if err != nil && status.Code(err) != codes.NotFound {
			errs = append(errs, fmt.Errorf("delete pod %s of deleted node %s: %w", controller.Key(m), name, err))
		}
	}
	c.log.Info("deleted the pods of a deleted node", zap.String("node", name), zap.Int("pods", len(pods)-len(errs)))
	return errors.Join(errs...)
}

// heartbeat is the node's latest sign of life: its Lease's renewTime or
// its Ready condition's heartbeat, whichever is later; its creation when
// it has neither yet.
func (c *Controller) heartbeat(n *corev1.Node) time.Time {
	hb := n.GetMetadata().GetCreationTimestamp().AsTime()
	if l, ok := c.leases.Get("kube-node-lease", n.GetMetadata().GetName()); ok {
		if t := l.GetSpec().GetRenewTime(); t != nil && t.AsTime().After(hb) {
			hb = t.AsTime()
		}
	}
	for _, cond := range n.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" && cond.GetLastHeartbeatTime().AsTime().After(hb) {
			hb = cond.GetLastHeartbeatTime().AsTime()
		}
	}
	return hb
}

// readyStatus is the node's Ready condition status; "" when it has none
// yet (a node registering, given its grace period before it is Unknown).
func readyStatus(n *corev1.Node) string {
	for _, cond := range n.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" {
			return cond.GetStatus()
		}
	}
	return ""
}

// markUnknown sets the node's conditions to Unknown.
func (c *Controller) markUnknown(ctx context.Context, n *corev1.Node, now time.Time) (*corev1.Node, error) {
	upd := proto.Clone(n).(*corev1.Node)
	if upd.Status == nil {
		upd.Status = &corev1.NodeStatus{}
	}
	ts := timestamppb.New(now.Truncate(time.Second))
	found := false
	for _, cond := range upd.Status.Conditions {
		if cond.GetType() == "Ready" {
			found = true
		}
		if cond.GetStatus() != "Unknown" {
			cond.Status, cond.LastTransitionTime = "Unknown", ts
			cond.Reason, cond.Message = "NodeStatusUnknown", "Kubelet stopped posting node status."
		}
	}
	if !found {
		upd.Status.Conditions = append(upd.Status.Conditions, &corev1.NodeCondition{Type: "Ready", Status: "Unknown", LastTransitionTime: ts,
			Reason: "NodeStatusNeverUpdated", Message: "Kubelet never posted node status."})
	}
	out, err := c.cs.Nodes().UpdateStatus(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("node %s: mark Ready=Unknown: %w", n.GetMetadata().GetName(), err)
	}
	c.log.Info("node unreachable", zap.String("node", n.GetMetadata().GetName()))
	c.events.Eventf(nodeRef(n), record.Normal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.GetMetadata().GetName())
	return out, nil
}

// markPodsNotReady sets the Ready condition of node's pods to False;
// pods already not ready are left alone.
func (c *Controller) markPodsNotReady(ctx context.Context, node string, now time.Time) error {
	ts := timestamppb.New(now.Truncate(time.Second))
	var errs []error
	for _, p := range c.podsOn(node) {
		errs = append(errs, c.markPodNotReady(ctx, p, ts))
	}
	return errors.Join(errs...)
}

func (c *Controller) markPodNotReady(ctx context.Context, p *corev1.Pod, ts *timestamppb.Timestamp) error {
	upd := proto.Clone(p).(*corev1.Pod)
	changed := false
	for _, cond := range upd.GetStatus().GetConditions() {
		if cond.GetType() == "Ready" && cond.GetStatus() != "False" {
			cond.Status, cond.LastTransitionTime, cond.Reason = "False", ts, "NodeNotReady"
			changed = true
		}
	}
	if !changed {
		return nil
	}
	_, err := c.cs.Pods().UpdateStatus(ctx, upd)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("pod %s: mark not ready: %w", controller.Key(p.GetMetadata()), err)
	}
	return nil
}

// syncTaints puts the unreachable or not-ready NoExecute taint on the
// node to match its Ready condition, keeping the time a taint was added.
func (c *Controller) syncTaints(ctx context.Context, n *corev1.Node, ready string, now time.Time) (*corev1.Node, error) {
	want := ""
	switch ready {
	case "Unknown":
		want = TaintUnreachable
	case "False":
		want = TaintNotReady
	}
	var taints []*corev1.Taint
	has := false
	for _, t := range n.GetSpec().GetTaints() {
		ours := t.GetEffect() == "NoExecute" && (t.GetKey() == TaintUnreachable || t.GetKey() == TaintNotReady)
		if ours && t.GetKey() != want {
			continue
		}
		has = has || (ours && t.GetKey() == want)
		taints = append(taints, t)
	}
	if want != "" && !has {
		taints = append(taints, &corev1.Taint{Key: want, Effect: "NoExecute", TimeAdded: timestamppb.New(now.Truncate(time.Second))})
	}
	if len(taints) == len(n.GetSpec().GetTaints()) && (want == "") == !has {
		return n, nil
	}
	upd := proto.Clone(n).(*corev1.Node)
	if upd.Spec == nil {
		upd.Spec = &corev1.NodeSpec{}
	}
	upd.Spec.Taints = taints
	out, err := c.cs.Nodes().Update(ctx, upd)
	if err != nil {
		return nil, fmt.Errorf("node %s: taints: %w", n.GetMetadata().GetName(), err)
	}
	return out, nil
}

// evict deletes the pods on n whose toleration of its NoExecute taints has
// run out, and requeues n for the next one.
func (c *Controller) evict(ctx context.Context, n *corev1.Node, now time.Time) error {
	var noExec []*corev1.Taint
	for _, t := range n.GetSpec().GetTaints() {
		if t.GetEffect() == "NoExecute" {
			noExec = append(noExec, t)
		}
	}
	if len(noExec) == 0 {
		return nil
	}
	var next time.Duration
	var errs []error
	for _, p := range c.podsOn(n.GetMetadata().GetName()) {
		at, forever := c.evictionTime(p, noExec)
		if forever {
			continue
		}
		if wait := at.Sub(now); wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		m := p.GetMetadata()
		_, err := c.cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: m.GetNamespace(), Name: m.GetName(),
			Preconditions: &metav1.Preconditions{Uid: proto.String(m.GetUid())}})
		if err != nil && status.Code(err) != codes.NotFound {
			errs = append(errs, fmt.Errorf("evict pod %s: %w", controller.Key(m), err))
			continue
		}
		c.events.Eventf(&corev1.ObjectReference{ApiVersion: "v1", Kind: "Pod", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()},
			record.Normal, "TaintManagerEviction", "Marking for deletion Pod %s", controller.Key(m))
	}
	if next > 0 {
		c.EnqueueAfter(n.GetMetadata().GetName(), next)
	}
	return errors.Join(errs...)
}

// evictionTime is when p must leave a node with taints: the earliest
// taint's timeAdded plus how long p tolerates it. forever: p tolerates
// them all with no limit.
func (c *Controller) evictionTime(p *corev1.Pod, taints []*corev1.Taint) (at time.Time, forever bool) {
	forever = true
	for _, t := range taints {
		secs, limited := c.tolerates(p, t)
		if !limited {
			continue
		}
		when := t.GetTimeAdded().AsTime().Add(time.Duration(secs) * time.Second)
		if forever || when.Before(at) {
			at = when
		}
		forever = false
	}
	return at, forever
}

// tolerates says how many seconds p tolerates t (limited), or that it
// tolerates it forever (!limited). As Kubernetes' getMinTolerationTime,
// of the tolerations matching t the smallest tolerationSeconds counts (0
// when not positive); t is tolerated forever only when none of them has
// tolerationSeconds. A pod without a toleration of the unreachable or
// not-ready taint gets DefaultTolerationSeconds; other untolerated taints
// give 0.
func (c *Controller) tolerates(p *corev1.Pod, t *corev1.Taint) (secs int64, limited bool) {
	matched := false
	for _, tol := range p.GetSpec().GetTolerations() {
		if !taints.ToleratesTaint(tol, t) {
			continue
		}
		matched = true
		if tol.TolerationSeconds == nil {
			continue
		}
		s := max(int64(tol.GetTolerationSeconds()), 0)
		if !limited || s < secs {
			secs = s
		}
		limited = true
	}
	if matched {
		return secs, limited
	}
	if t.GetKey() == TaintUnreachable || t.GetKey() == TaintNotReady {
		return int64(c.cfg.DefaultTolerationSeconds), true
	}
	return 0, true
}

func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{ApiVersion: "v1", Kind: "Node", Name: n.GetMetadata().GetName(), Uid: n.GetMetadata().GetUid()}
}
