package pods

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// forceGrace is how long a pod that vanished from the API (force-deleted)
// gets to stop.
const forceGrace = 2 * time.Second

// sync makes the runtime match one pod (namespace/name) and reports its
// status. It is idempotent: every step looks at what the runtime has.
func (m *Manager) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	pod, exists := m.inf.Lister().Get(ns, name)
	rts, err := m.inspect(ctx, ns, name)
	if err != nil {
		return err
	}
	uid := pod.GetMetadata().GetUid()
	// Runtime objects of an earlier pod of the same name go first.
	for oldUID, rp := range rts {
		if exists && oldUID == uid {
			continue
		}
		if m.stopPod(ctx, key, rp, forceGrace, true) {
			return nil
		}
		if err := m.teardownVolumes(oldUID); err != nil {
			return fmt.Errorf("volumes of %s (uid %s): %w", key, oldUID, err)
		}
		m.forget(oldUID)
		_ = os.RemoveAll(m.podLogDir(ns, name, oldUID))
	}
	if m.probes != nil {
		// Workers of an earlier pod of this name whose runtime objects
		// were already gone (uid is "" when no pod has the name now).
		m.probes.RemoveOthers(key, uid)
	}
	if !exists {
		return nil
	}
	rp := rts[uid]
	if rp == nil {
		rp = &podRuntime{uid: uid}
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil || terminal(pod.GetStatus().GetPhase()) {
		// Nothing is probed on its way out.
		m.syncProbes(pod, &podRuntime{uid: uid}, "")
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		return m.finishDeletion(ctx, key, pod, rp)
	}
	if terminal(pod.GetStatus().GetPhase()) {
		// Finished pods keep their containers (and logs) but not their
		// network, nor, once nothing runs, their volumes.
		if sb := rp.ready(); sb != nil {
			_, err := m.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.GetId()})
			m.metrics.op("stop_sandbox", err)
			return err
		}
		if !rp.running() {
			if err := m.teardownVolumes(uid); err != nil {
				return fmt.Errorf("volumes of finished pod %s: %w", key, err)
			}
		}
		return nil
	}
	sb := rp.ready()
	if sb == nil && !m.finished(pod, rp) {
		if sb, err = m.runSandbox(ctx, pod, rp); err != nil {
			return err
		}
	}
	var requeue time.Duration
	var failed error
	if sb != nil {
		ip, err := m.podIP(ctx, sb.GetId())
		if err != nil {
			return err
		}
		m.setupVolumes(pod)
		if m.overLimit(pod) {
			return m.updateStatus(ctx, pod, rp)
		}
		if volume.Limited(pod) {
			requeue = usageCheckPeriod
		}
		for _, c := range pod.GetSpec().GetContainers() {
			after, err := m.syncContainer(ctx, pod, c, sb, rp, ip)
			if err != nil && !errors.Is(err, errBackingOff) && failed == nil {
				failed = fmt.Errorf("container %s: %w", c.GetName(), err)
			}
			if after > 0 && (requeue == 0 || after < requeue) {
				requeue = after
			}
		}
		if rts, err = m.inspect(ctx, ns, name); err != nil {
			return err
		}
		if rp = rts[uid]; rp == nil {
			rp = &podRuntime{uid: uid}
		}
	}
	if sb != nil {
		ip, _ := m.podIP(ctx, sb.GetId())
		m.syncProbes(pod, rp, ip)
	} else {
		m.syncProbes(pod, rp, "")
	}
	if requeue > 0 {
		m.queue.AddAfter(key, requeue)
	}
	if err := m.updateStatus(ctx, pod, rp); err != nil {
		return err
	}
	// A container that failed to be created or started is retried with
	// the queue's rate limit (the status already says why it waits).
	return failed
}

func terminal(phase string) bool { return phase == "Succeeded" || phase == "Failed" }

// finished says whether every container has exited for good (restart
// policy Never, or OnFailure after success), so no new sandbox is needed.
func (m *Manager) finished(pod *corev1.Pod, rp *podRuntime) bool {
	policy := pod.GetSpec().GetRestartPolicy()
	if policy == "Always" || policy == "" || len(rp.containers) == 0 {
		return false
	}
	for _, c := range pod.GetSpec().GetContainers() {
		h := rp.history(c.GetName())
		if len(h) == 0 || h[0].status.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED {
			return false
		}
		if policy == "OnFailure" && h[0].status.GetExitCode() != 0 {
			return false
		}
	}
	return true
}

// runSandbox starts a new sandbox for the pod, after removing dead ones.
func (m *Manager) runSandbox(ctx context.Context, pod *corev1.Pod, rp *podRuntime) (*runtimeapi.PodSandbox, error) {
	ref := record.PodRef(pod)
	for _, old := range rp.sandboxes {
		// A sandbox that died takes its containers with it.
		if _, err := m.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: old.GetId()}); err != nil {
			return nil, fmt.Errorf("remove dead sandbox %s: %w", old.GetId(), err)
		}
	}
	attempt := uint32(0)
	if len(rp.sandboxes) > 0 {
		attempt = rp.sandboxes[0].GetMetadata().GetAttempt() + 1
		m.rec.Event(ref, record.Normal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
	}
	cfg := m.sandboxConfig(pod, attempt)
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return nil, fmt.Errorf("pod log dir: %w", err)
	}
	resp, err := m.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	m.metrics.op("run_sandbox", err)
	if err != nil {
		m.rec.Eventf(ref, record.Warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return nil, fmt.Errorf("run sandbox: %w", err)
	}
	return &runtimeapi.PodSandbox{Id: resp.GetPodSandboxId(), Metadata: cfg.Metadata, State: runtimeapi.PodSandboxState_SANDBOX_READY, Labels: cfg.Labels}, nil
}

// podIP reads (once per sandbox) the IP the network plugin gave it.
func (m *Manager) podIP(ctx context.Context, sandboxID string) (string, error) {
	m.mu.Lock()
	ip, ok := m.podIPs[sandboxID]
	m.mu.Unlock()
	if ok {
		return ip, nil
	}
	st, err := m.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandboxID})
	if err != nil {
		return "", fmt.Errorf("sandbox %s status: %w", sandboxID, err)
	}
	ip = st.GetStatus().GetNetwork().GetIp()
	if st.GetStatus().GetLinux().GetNamespaces().GetOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		ip = m.cfg.NodeIP
	}
	m.mu.Lock()
	m.podIPs[sandboxID] = ip
	m.mu.Unlock()
	return ip, nil
}

// syncContainer starts or restarts one container as its state and the
// pod's restart policy say. It returns when to look again if it is backing
// off.
func (m *Manager) syncContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sb *runtimeapi.PodSandbox, rp *podRuntime, ip string) (time.Duration, error) {
	var cur *containerInfo
	var attempt uint32
	if h := rp.history(c.GetName()); len(h) > 0 {
		cur = h[0]
		attempt = cur.c.GetMetadata().GetAttempt() + 1
	}
	if cur != nil && cur.c.GetPodSandboxId() != sb.GetId() {
		cur = nil // from a dead sandbox: start afresh in this one
	}
	key := pod.GetMetadata().GetUid() + "/" + c.GetName()
	if cur != nil {
		switch cur.status.GetState() {
		case runtimeapi.ContainerState_CONTAINER_RUNNING:
			m.setWaiting(pod, c.GetName(), nil)
			if kind, bad := m.unhealthy(pod, c, cur.c.GetId()); bad {
				m.killUnhealthy(ctx, pod, c, cur.c.GetId(), kind)
			}
			return 0, nil
		case runtimeapi.ContainerState_CONTAINER_CREATED:
			return 0, m.start(ctx, pod, c, cur.c.GetId())
		case runtimeapi.ContainerState_CONTAINER_EXITED, runtimeapi.ContainerState_CONTAINER_UNKNOWN:
			if !shouldRestart(pod.GetSpec().GetRestartPolicy(), cur.status.GetExitCode()) {
				// Done for good: report how it ended, not why it waited.
				m.setWaiting(pod, c.GetName(), nil)
				return 0, nil
			}
			finished := time.Unix(0, cur.status.GetFinishedAt())
			ran := finished.Sub(time.Unix(0, cur.status.GetStartedAt()))
			if cur.status.GetStartedAt() == 0 {
				ran = 0
			}
			if wait := m.backoff.wait(key, finished, ran, time.Now()); wait > 0 {
				msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", m.backoff.delay(key), c.GetName(), pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetUid())
				if m.setWaiting(pod, c.GetName(), &waitReason{"CrashLoopBackOff", msg}) {
					m.rec.Eventf(record.PodRef(pod), record.Warning, "BackOff", "Back-off restarting failed container %s in pod %s", c.GetName(), pod.GetMetadata().GetName())
				}
				return wait, nil
			}
			m.backoff.retried(key, time.Now())
			// Keep the one that just exited (for `logs --previous`), drop older ones.
			for _, old := range rp.history(c.GetName())[1:] {
				if _, err := m.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: old.c.GetId()}); err != nil {
					return 0, fmt.Errorf("remove old container %s: %w", old.c.GetId(), err)
				}
				m.statuses.forget(old.c.GetId())
			}
		}
	}
	return m.createAndStart(ctx, pod, c, sb, attempt, ip)
}

func shouldRestart(policy string, exitCode int32) bool {
	switch policy {
	case "Never":
		return false
	case "OnFailure":
		return exitCode != 0
	}
	return true
}

// setWaiting records (or clears, with nil) why a container waits; it says
// whether the reason is new.
func (m *Manager) setWaiting(pod *corev1.Pod, container string, w *waitReason) bool {
	uid := pod.GetMetadata().GetUid()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, had := m.waiting[uid][container]
	if w == nil {
		delete(m.waiting[uid], container)
		return had
	}
	if m.waiting[uid] == nil {
		m.waiting[uid] = map[string]waitReason{}
	}
	m.waiting[uid][container] = *w
	return !had || cur.reason != w.reason
}

func (m *Manager) waitingOf(uid, container string) (waitReason, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.waiting[uid][container]
	return w, ok
}

// forget drops what the manager remembers about a pod UID.
func (m *Manager) forget(uid string) {
	m.mu.Lock()
	delete(m.waiting, uid)
	delete(m.seen, uid)
	delete(m.evicted, uid)
	m.mu.Unlock()
	if m.probes != nil {
		m.probes.Remove(uid)
	}
	m.backoff.forget(uid + "/")
}
