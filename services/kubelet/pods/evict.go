package pods

import (
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
)

// usageCheckPeriod is how often a pod with a size-limited disk emptyDir
// has its usage checked.
const usageCheckPeriod = 10 * time.Second

// overLimit checks the pod's disk emptyDirs; one over its sizeLimit evicts
// the pod: an Event, and its status becomes Failed with reason Evicted
// (the next sync, seeing a finished pod, stops its sandbox).
func (m *Manager) overLimit(pod *corev1.Pod) bool {
	if m.volumes == nil || !volume.Limited(pod) {
		return false
	}
	msg, err := m.volumes.OverLimit(pod)
	if err != nil {
		m.log.Warn("emptyDir usage not checked", zap.String("pod", pod.GetMetadata().GetNamespace()+"/"+pod.GetMetadata().GetName()), zap.Error(err))
		return false
	}
	if msg == "" {
		return false
	}
	uid := pod.GetMetadata().GetUid()
	m.mu.Lock()
	_, had := m.evicted[uid]
	m.evicted[uid] = msg
	m.mu.Unlock()
	if !had {
		m.rec.Event(record.PodRef(pod), record.Warning, "Evicted", msg)
	}
	return true
}

// eviction is why the pod was evicted, if it was.
func (m *Manager) eviction(uid string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.evicted[uid]
	return msg, ok
}
