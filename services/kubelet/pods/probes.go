package pods

import (
	"context"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/probe"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// newProbes builds the probe manager: results that change requeue the pod,
// failed attempts become Unhealthy Events.
func (m *Manager) newProbes(ctx context.Context, checker probe.Checker) *probe.Manager {
	return probe.New(ctx, probe.Config{
		Checker: checker,
		Changed: func(key string) { m.queue.Add(key) },
		Unhealthy: func(pod *corev1.Pod, container string, kind probe.Kind, msg string) {
			m.rec.Eventf(record.PodRef(pod), record.Warning, "Unhealthy", "%s probe failed: %s", kind, msg)
		},
		Attempted: func(kind probe.Kind, ok bool) {
			result := "success"
			if !ok {
				result = "failure"
			}
			m.metrics.probes.WithLabelValues(strings.ToLower(string(kind)), result).Inc()
		},
	})
}

// syncProbes gives each running container of the pod (in sandbox sb with
// address ip) its probe workers, and stops those of the others.
func (m *Manager) syncProbes(pod *corev1.Pod, rp *podRuntime, ip string) {
	if m.probes == nil {
		return
	}
	sb := rp.ready()
	running := map[string]probe.Running{}
	for _, c := range pod.GetSpec().GetContainers() {
		h := rp.history(c.GetName())
		if sb == nil || len(h) == 0 || h[0].status.GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING || h[0].c.GetPodSandboxId() != sb.GetId() {
			continue
		}
		running[c.GetName()] = probe.Running{
			Target:    probe.Target{PodIP: ip, ContainerID: h[0].c.GetId(), Ports: c.GetPorts()},
			StartedAt: time.Unix(0, h[0].status.GetStartedAt()),
		}
	}
	m.probes.Sync(pod, running)
}

// probeState says whether a running container instance has started (its
// startup probe passed, or it has none) and is ready (started, and its
// readiness probe passed, or it has none).
func (m *Manager) probeState(pod *corev1.Pod, c *corev1.Container, id string) (started, ready bool) {
	if m.probes == nil {
		return true, true
	}
	uid := pod.GetMetadata().GetUid()
	started = c.GetStartupProbe() == nil || m.probes.Result(uid, c.GetName(), id, probe.Startup) == probe.Success
	ready = started && (c.GetReadinessProbe() == nil || m.probes.Result(uid, c.GetName(), id, probe.Readiness) == probe.Success)
	return started, ready
}

// unhealthy says which probe, if any, condemns a running container instance.
func (m *Manager) unhealthy(pod *corev1.Pod, c *corev1.Container, id string) (probe.Kind, bool) {
	if m.probes == nil {
		return "", false
	}
	uid := pod.GetMetadata().GetUid()
	for _, k := range []probe.Kind{probe.Startup, probe.Liveness} {
		if m.probes.Result(uid, c.GetName(), id, k) == probe.Failure {
			return k, true
		}
	}
	return "", false
}

// killUnhealthy stops a container whose liveness or startup probe failed,
// in the background within its grace period; the restart policy then
// restarts it as any exited container.
func (m *Manager) killUnhealthy(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, kind probe.Kind) {
	m.mu.Lock()
	if m.killing[id] {
		m.mu.Unlock()
		return
	}
	m.killing[id] = true
	m.mu.Unlock()
	grace := int64(30)
	if g := pod.GetSpec().TerminationGracePeriodSeconds; g != nil {
		grace = int64(*g)
	}
	p := c.GetLivenessProbe()
	if kind == probe.Startup {
		p = c.GetStartupProbe()
	}
	if g := p.TerminationGracePeriodSeconds; g != nil {
		grace = int64(*g)
	}
	m.rec.Eventf(record.PodRef(pod), record.Normal, "Killing", "Container %s failed %s probe, will be restarted", c.GetName(), strings.ToLower(string(kind)))
	key := pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
	go func() {
		defer func() {
			m.mu.Lock()
			delete(m.killing, id)
			m.mu.Unlock()
			m.queue.Add(key)
		}()
		_, err := m.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: grace})
		m.metrics.op("stop_container", err)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("unhealthy container not stopped", zap.String("pod", key), zap.String("container", c.GetName()), zap.Error(err))
		}
	}()
}
