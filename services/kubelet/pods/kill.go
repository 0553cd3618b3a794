package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// stopPod stops a pod's containers (SIGTERM, then SIGKILL after grace) and
// its sandboxes in the background, then queues key again. It returns true
// while that is under way; false once nothing runs (then, with remove, the
// sandboxes and containers are removed too).
func (m *Manager) stopPod(ctx context.Context, key string, rp *podRuntime, grace time.Duration, remove bool) bool {
	m.mu.Lock()
	busy := m.terminating[rp.uid]
	m.mu.Unlock()
	if busy {
		return true
	}
	if rp.running() {
		m.mu.Lock()
		m.terminating[rp.uid] = true
		m.mu.Unlock()
		go func() {
			defer func() {
				m.mu.Lock()
				delete(m.terminating, rp.uid)
				m.mu.Unlock()
				m.queue.Add(key)
			}()
			if err := m.kill(ctx, rp, grace); err != nil && ctx.Err() == nil {
				m.log.Warn("pod not stopped", zap.String("pod", key), zap.Error(err))
			}
		}()
		return true
	}
	if remove {
		for _, sb := range rp.sandboxes {
			_, err := m.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.GetId()})
			m.metrics.op("remove_sandbox", err)
			if err != nil {
				m.log.Warn("sandbox not removed", zap.String("sandbox", sb.GetId()), zap.Error(err))
			}
			m.mu.Lock()
			delete(m.podIPs, sb.GetId())
			m.mu.Unlock()
		}
		for _, c := range rp.containers {
			m.statuses.forget(c.c.GetId())
		}
	}
	return false
}

// kill stops every running container in parallel, then the sandboxes.
func (m *Manager) kill(ctx context.Context, rp *podRuntime, grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(rp.containers))
	for i, c := range rp.containers {
		if c.c.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
			continue
		}
		wg.Go(func() {
			_, err := m.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.c.GetId(), Timeout: int64(grace.Round(time.Second) / time.Second)})
			m.metrics.op("stop_container", err)
			if err != nil {
				errs[i] = fmt.Errorf("stop container %s: %w", c.name(), err)
			}
		})
	}
	wg.Wait()
	for _, sb := range rp.sandboxes {
		if sb.GetState() != runtimeapi.PodSandboxState_SANDBOX_READY {
			continue
		}
		_, err := m.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.GetId()})
		m.metrics.op("stop_sandbox", err)
		if err != nil {
			errs = append(errs, fmt.Errorf("stop sandbox %s: %w", sb.GetId(), err))
		}
	}
	return errors.Join(errs...)
}

// finishDeletion stops a pod marked for deletion within its grace period,
// reports its containers as terminated and then confirms the deletion to
// the apiserver (a zero grace period), which removes the object.
func (m *Manager) finishDeletion(ctx context.Context, key string, pod *corev1.Pod, rp *podRuntime) error {
	grace := 30 * time.Second
	if g := pod.GetMetadata().DeletionGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if rp.running() {
		m.mu.Lock()
		started := m.terminating[rp.uid]
		m.mu.Unlock()
		if !started {
			for _, c := range rp.containers {
				if c.c.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING {
					m.rec.Eventf(record.PodRef(pod), record.Normal, "Killing", "Stopping container %s", c.name())
				}
			}
		}
	}
	if m.stopPod(ctx, key, rp, grace, false) {
		return nil
	}
	md := pod.GetMetadata()
	if m.deletionConfirmed(md.GetUid()) || !m.cached(md) {
		// Confirmed already (this sync started before the informer saw
		// the pod go), or gone meanwhile: nothing to write, and the node
		// authoriser would refuse it. The sync of the deletion cleans up.
		// The confirmation is checked first: the informer drops the pod
		// from its cache before its handler forgets the confirmation.
		return nil
	}
	// Everything stopped: the last status, then the confirmation.
	if err := m.updateStatus(ctx, pod, rp); err != nil && status.Code(err) != codes.NotFound {
		m.log.Warn("final pod status not written", zap.String("pod", key), zap.Error(err))
	}
	m.stopPod(ctx, key, rp, 0, true)
	if err := m.teardownVolumes(md.GetUid()); err != nil {
		return fmt.Errorf("volumes of %s: %w", key, err)
	}
	_, err := m.cs.Pods().Delete(ctx, &metav1.DeleteOptions{
		Namespace: md.GetNamespace(), Name: md.GetName(),
		GracePeriodSeconds: proto.Int32(0),
		Preconditions:      &metav1.Preconditions{Uid: proto.String(md.GetUid())},
	})
	switch status.Code(err) {
	case codes.OK, codes.NotFound, codes.Aborted:
		// Aborted: a newer pod of the same name; it is another sync's business.
	default:
		return fmt.Errorf("confirm deletion of %s: %w", key, err)
	}
	if m.cached(md) {
		// Until the informer delivers the deletion (which clears it).
		m.mu.Lock()
		m.confirmed[md.GetUid()] = true
		m.mu.Unlock()
	}
	m.forget(md.GetUid())
	_ = os.RemoveAll(m.podLogDir(md.GetNamespace(), md.GetName(), md.GetUid()))
	return nil
}

// deletionConfirmed reports whether this kubelet confirmed the deletion of
// the pod uid (and the informer has not yet delivered it).
func (m *Manager) deletionConfirmed(uid string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.confirmed[uid]
}

// cached reports whether the informer still holds this pod (by UID).
func (m *Manager) cached(md *metav1.ObjectMeta) bool {
	p, ok := m.inf.Lister().Get(md.GetNamespace(), md.GetName())
	return ok && p.GetMetadata().GetUid() == md.GetUid()
}
