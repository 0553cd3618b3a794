package pods

import (
	"context"
	"fmt"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// updateStatus writes the pod's status as the runtime shows it, when it
// differs from what the apiserver has.
func (m *Manager) updateStatus(ctx context.Context, pod *corev1.Pod, rp *podRuntime) error {
	st := m.podStatus(pod, rp, time.Now())
	if proto.Equal(st, pod.GetStatus()) {
		return nil
	}
	for range 3 {
		next := proto.Clone(pod).(*corev1.Pod)
		next.Status = st
		_, err := m.cs.Pods().UpdateStatus(ctx, next)
		if status.Code(err) != codes.Aborted {
			if err == nil {
				m.observeStartup(pod, st)
			}
			return err
		}
		// Changed meanwhile: write over the newest version.
		fresh, err := m.cs.Pods().Get(ctx, &metav1.GetOptions{Namespace: pod.GetMetadata().GetNamespace(), Name: pod.GetMetadata().GetName()})
		if err != nil {
			return err
		}
		if fresh.GetMetadata().GetUid() != pod.GetMetadata().GetUid() {
			return nil
		}
		pod = fresh
		st = m.podStatus(pod, rp, time.Now())
	}
	return fmt.Errorf("pod %s/%s status: conflicts kept coming", pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName())
}

// observeStartup records the startup latency the first time a pod runs.
func (m *Manager) observeStartup(pod *corev1.Pod, st *corev1.PodStatus) {
	if st.GetPhase() != "Running" || pod.GetStatus().GetPhase() == "Running" {
		return
	}
	m.mu.Lock()
	seen, ok := m.seen[pod.GetMetadata().GetUid()]
	m.mu.Unlock()
	if ok {
		m.metrics.startupLatency.Observe(time.Since(seen).Seconds())
	}
}

// podStatus computes phase, conditions, IPs and container statuses.
func (m *Manager) podStatus(pod *corev1.Pod, rp *podRuntime, now time.Time) *corev1.PodStatus {
	prev := pod.GetStatus()
	st := &corev1.PodStatus{
		HostIp:    m.cfg.NodeIP,
		StartTime: prev.GetStartTime(),
		QosClass:  prev.GetQosClass(),
	}
	if st.StartTime == nil {
		st.StartTime = timestamppb.New(now.Truncate(time.Second))
	}
	if sb := rp.ready(); sb != nil {
		m.mu.Lock()
		ip := m.podIPs[sb.GetId()]
		m.mu.Unlock()
		if ip != "" {
			st.PodIp, st.PodIps = ip, []*corev1.PodIP{{Ip: ip}}
		}
	}
	var running, waiting, succeeded, failed, restarting int
	allReady := true
	for _, c := range pod.GetSpec().GetContainers() {
		cs := m.containerStatus(pod, c, rp)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.GetReady() {
			allReady = false
		}
		switch s := cs.GetState(); {
		case s.GetRunning() != nil:
			running++
		case s.GetTerminated() != nil:
			if s.GetTerminated().GetExitCode() == 0 {
				succeeded++
			} else {
				failed++
			}
		case cs.GetLastState().GetTerminated() != nil:
			restarting++ // waiting to be restarted after it ran
		default:
			waiting++
		}
	}
	policy := pod.GetSpec().GetRestartPolicy()
	switch {
	case waiting > 0:
		st.Phase = "Pending"
	case running > 0 || restarting > 0:
		st.Phase = "Running"
	case policy == "Always" || policy == "":
		st.Phase = "Running"
	case failed > 0 && policy == "Never":
		st.Phase = "Failed"
	case failed > 0:
		st.Phase = "Running" // OnFailure: it will be restarted
	default:
		st.Phase = "Succeeded"
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil && running == 0 && st.Phase == "Running" {
		st.Phase = "Succeeded"
		if failed > 0 {
			st.Phase = "Failed"
		}
	}
	if msg, ok := m.eviction(pod.GetMetadata().GetUid()); ok {
		st.Phase, st.Reason, st.Message = "Failed", "Evicted", msg
	}
	ready := "False"
	if allReady && st.Phase == "Running" {
		ready = "True"
	}
	st.Conditions = []*corev1.PodCondition{
		condition(prev, "PodReadyToStartContainers", boolStatus(rp.ready() != nil), now),
		condition(prev, "Initialized", "True", now),
		condition(prev, "Ready", ready, now),
		condition(prev, "ContainersReady", ready, now),
		condition(prev, "PodScheduled", "True", now),
	}
	if ready == "False" {
		for _, c := range st.Conditions[2:4] {
			c.Reason = "ContainersNotReady"
			c.Message = "containers with unready status: " + unready(st.ContainerStatuses)
		}
	}
	return st
}

func boolStatus(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func unready(cs []*corev1.ContainerStatus) string {
	out := "["
	for _, c := range cs {
		if !c.GetReady() {
			if len(out) > 1 {
				out += " "
			}
			out += c.GetName()
		}
	}
	return out + "]"
}

// condition keeps the previous transition time when the status is the same.
func condition(prev *corev1.PodStatus, typ, status string, now time.Time) *corev1.PodCondition {
	for _, c := range prev.GetConditions() {
		if c.GetType() == typ && c.GetStatus() == status {
			return &corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: c.GetLastTransitionTime()}
		}
	}
	return &corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: timestamppb.New(now.Truncate(time.Second))}
}

// containerStatus reports one container: its current instance's state, the
// previous instance's as lastState, and why it waits if it does.
func (m *Manager) containerStatus(pod *corev1.Pod, c *corev1.Container, rp *podRuntime) *corev1.ContainerStatus {
	cs := &corev1.ContainerStatus{Name: c.GetName(), Image: c.GetImage(), Started: proto.Bool(false)}
	h := rp.history(c.GetName())
	w, hasWait := m.waitingOf(pod.GetMetadata().GetUid(), c.GetName())
	if len(h) == 0 {
		cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		if hasWait {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}
		}
		return cs
	}
	cur := h[0]
	cs.RestartCount = int32(cur.c.GetMetadata().GetAttempt())
	cs.ImageId = cur.status.GetImageRef()
	cs.ContainerId = m.cfg.RuntimeName + "://" + cur.c.GetId()
	state := m.state(cur)
	if len(h) > 1 {
		cs.LastState = m.state(h[1])
	}
	switch {
	case state.GetRunning() != nil:
		started, ready := m.probeState(pod, c, cur.c.GetId())
		cs.Ready, cs.Started = ready, proto.Bool(started)
		cs.State = state
	case state.GetTerminated() != nil && hasWait:
		// Exited and waiting to restart (CrashLoopBackOff, say).
		cs.LastState = state
		cs.State = &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: w.reason, Message: w.message}}
	default:
		cs.State = state
	}
	if cs.LastState == nil {
		cs.LastState = &corev1.ContainerState{}
	}
	return cs
}

// state converts a runtime container status.
func (m *Manager) state(ci *containerInfo) *corev1.ContainerState {
	s := ci.status
	switch s.GetState() {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return &corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: nanoTime(s.GetStartedAt())}}
	case runtimeapi.ContainerState_CONTAINER_EXITED, runtimeapi.ContainerState_CONTAINER_UNKNOWN:
		reason := s.GetReason()
		if reason == "" {
			reason = "Error"
			if s.GetExitCode() == 0 {
				reason = "Completed"
			}
		}
		return &corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode:    s.GetExitCode(),
			Reason:      reason,
			Message:     s.GetMessage(),
			StartedAt:   nanoTime(s.GetStartedAt()),
			FinishedAt:  nanoTime(s.GetFinishedAt()),
			ContainerId: m.cfg.RuntimeName + "://" + s.GetId(),
		}}
	}
	return &corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
}

func nanoTime(ns int64) *timestamppb.Timestamp {
	if ns == 0 {
		return nil
	}
	return timestamppb.New(time.Unix(0, ns).Truncate(time.Second))
}
