package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tugboat-sh/tugboat/client/record"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// parallelWrites bounds the pod creates or deletes in flight for one sync.
const parallelWrites = 16

// manage creates or deletes pods so that rs has spec.replicas active ones,
// and returns the active pods without those it deleted.
func (c *Controller) manage(ctx context.Context, rs *appsv1.ReplicaSet, active []*corev1.Pod) ([]*corev1.Pod, error) {
	key := controller.Key(rs.GetMetadata())
	diff := len(active) - int(rs.GetSpec().GetReplicas())
	switch {
	case diff < 0:
		n := min(-diff, burst)
		c.exp.Expect(key, n, nil)
		errs := parallel(n, func(int) error {
			err := c.createPod(ctx, rs)
			if err != nil {
				c.exp.CreationObserved(key)
			}
			return err
		})
		if errs != nil {
			c.events.Eventf(ref(rs), record.Warning, "FailedCreate", "Error creating pods: %v", errs)
			return active, fmt.Errorf("replicaset %s: create pods: %w", key, errs)
		}
		c.events.Eventf(ref(rs), record.Normal, "SuccessfulCreate", "Created %d pod(s)", n)
	case diff > 0:
		n := min(diff, burst)
		ordered := deletionOrder(active)
		victims := ordered[:n]
		uids := make([]string, n)
		for i, p := range victims {
			uids[i] = p.GetMetadata().GetUid()
		}
		c.exp.Expect(key, 0, uids)
		errs := parallel(n, func(i int) error {
			p := victims[i].GetMetadata()
			_, err := c.cs.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: p.GetNamespace(), Name: p.GetName(),
				Preconditions: &metav1.Preconditions{Uid: proto.String(p.GetUid())}})
			if err != nil {
				c.exp.DeletionObserved(key, p.GetUid())
			}
			if status.Code(err) == codes.NotFound {
				err = nil
			}
			return err
		})
		if errs != nil {
			c.events.Eventf(ref(rs), record.Warning, "FailedDelete", "Error deleting pods: %v", errs)
			return active, fmt.Errorf("replicaset %s: delete pods: %w", key, errs)
		}
		c.events.Eventf(ref(rs), record.Normal, "SuccessfulDelete", "Deleted %d pod(s)", n)
		return ordered[n:], nil
	}
	return active, nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	_, err := c.cs.Pods().Create(ctx, controller.PodFromTemplate(rs.GetSpec().GetTemplate(), rs.GetMetadata(), "apps/v1", "ReplicaSet"))
	return err
}

// deletionOrder sorts pods the way they should go first: unscheduled
// before scheduled, pending before running, not ready before ready, the
// most recently created first.
func deletionOrder(pods []*corev1.Pod) []*corev1.Pod {
	out := append([]*corev1.Pod(nil), pods...)
	rank := func(p *corev1.Pod) int {
		r := 0
		if p.GetSpec().GetNodeName() != "" {
			r += 4
		}
		if p.GetStatus().GetPhase() == "Running" {
			r += 2
		}
		if controller.Ready(p) {
			r++
		}
		return r
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i].GetMetadata().GetCreationTimestamp().AsTime().After(out[j].GetMetadata().GetCreationTimestamp().AsTime())
	})
	return out
}

// parallel runs fn(0..n-1) with bounded concurrency and joins the errors.
func parallel(n int, fn func(i int) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, parallelWrites)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func ref(rs *appsv1.ReplicaSet) *corev1.ObjectReference {
	m := rs.GetMetadata()
	return &corev1.ObjectReference{ApiVersion: "apps/v1", Kind: "ReplicaSet", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}
