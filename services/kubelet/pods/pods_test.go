package pods

import (
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestLinuxResources(t *testing.T) {
	tests := []struct {
		name string
		in   *corev1.ResourceRequirements
		want *runtimeapi.LinuxContainerResources
	}{
		{"best effort", nil, &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: 1000}},
		{"seed limits 500m 64Mi", &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "500m", "memory": "64Mi"}},
			&runtimeapi.LinuxContainerResources{CpuShares: 512, CpuPeriod: 100000, CpuQuota: 50000, MemoryLimitInBytes: 64 << 20, OomScoreAdj: 500}},
		{"requests only", &corev1.ResourceRequirements{Requests: map[string]string{"cpu": "2", "memory": "1Gi"}},
			&runtimeapi.LinuxContainerResources{CpuShares: 2048, OomScoreAdj: 500}},
		{"tiny cpu limit keeps a minimum quota", &corev1.ResourceRequirements{Limits: map[string]string{"cpu": "1m"}},
			&runtimeapi.LinuxContainerResources{CpuShares: 2, CpuPeriod: 100000, CpuQuota: 1000, OomScoreAdj: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := linuxResources(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.CpuShares != tt.want.CpuShares || got.CpuQuota != tt.want.CpuQuota || got.CpuPeriod != tt.want.CpuPeriod ||
				got.MemoryLimitInBytes != tt.want.MemoryLimitInBytes || got.OomScoreAdj != tt.want.OomScoreAdj {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if got.OomScoreAdj < 0 {
				t.Errorf("negative OOM score %d", got.OomScoreAdj)
			}
		})
	}
	if _, err := linuxResources(&corev1.ResourceRequirements{Limits: map[string]string{"memory": "lots"}}); err == nil {
		t.Error("a bad memory limit was accepted")
	}
}

func TestBackoffDoublesAndResets(t *testing.T) {
	b := newBackoff(10*time.Second, 40*time.Second, 10*time.Minute)
	now := time.Unix(1000, 0)
	if w := b.wait("k", now, time.Second, now); w != 0 {
		t.Fatalf("first restart waits %v, want 0", w)
	}
	var got []time.Duration
	for range 5 {
		b.retried("k", now)
		got = append(got, b.wait("k", now, time.Second, now))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 40 * time.Second, 40 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
	if w := b.wait("k", now, 10*time.Minute, now); w != 0 {
		t.Errorf("after 10 minutes running the wait is %v, want 0", w)
	}
	b.retried("k", now)
	if w := b.wait("k", now, time.Second, now.Add(5*time.Second)); w != 5*time.Second {
		t.Errorf("after a reset the wait is %v, want the initial 10s less 5s passed", w)
	}
	b.forget("k")
	if w := b.wait("k", now, 0, now); w != 0 {
		t.Errorf("forgotten key waits %v", w)
	}
}

// A pull that failed is retried once its back-off has passed, counted from
// the failure recorded by retried (callers pass no failure time).
func TestBackoffFromRecordedFailure(t *testing.T) {
	b := newBackoff(10*time.Second, time.Minute, 10*time.Minute)
	failed := time.Unix(1000, 0)
	b.retried("pull", failed)
	if w := b.wait("pull", time.Time{}, 0, failed.Add(4*time.Second)); w != 6*time.Second {
		t.Errorf("4s after the failure the wait is %v, want 6s", w)
	}
	if w := b.wait("pull", time.Time{}, 0, failed.Add(time.Hour)); w != 0 {
		t.Errorf("an hour later the wait is %v, want 0", w)
	}
}

// restartPolicy Never: a container that could not start ends the pod as
// Failed, not as waiting for a restart that never comes.
func TestNeverRestartedFailureIsFailed(t *testing.T) {
	m := &Manager{cfg: Config{RuntimeName: "containerd"}, waiting: map[string]map[string]waitReason{}, podIPs: map[string]string{}}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Uid: "u"}, Spec: &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "a", Image: "i"}}}}
	m.setWaiting(pod, "a", &waitReason{"RunContainerError", "exec: not found"})
	rp := &podRuntime{uid: "u", containers: []*containerInfo{exited("a", 0, 128)}}
	if _, err := m.syncContainer(t.Context(), pod, pod.Spec.Containers[0], &runtimeapi.PodSandbox{Id: "sb"}, withSandbox(rp, "sb"), ""); err != nil {
		t.Fatal(err)
	}
	if st := m.podStatus(pod, rp, time.Now()); st.GetPhase() != "Failed" {
		t.Errorf("phase %s, want Failed", st.GetPhase())
	}
}

func withSandbox(rp *podRuntime, id string) *podRuntime {
	for _, c := range rp.containers {
		c.c.PodSandboxId = id
	}
	return rp
}

func TestShouldRestart(t *testing.T) {
	for _, tt := range []struct {
		policy string
		code   int32
		want   bool
	}{{"Always", 0, true}, {"", 0, true}, {"OnFailure", 0, false}, {"OnFailure", 1, true}, {"Never", 1, false}} {
		if got := shouldRestart(tt.policy, tt.code); got != tt.want {
			t.Errorf("shouldRestart(%q, %d) = %v", tt.policy, tt.code, got)
		}
	}
}

func exited(name string, attempt uint32, code int32) *containerInfo {
	return &containerInfo{
		c:      &runtimeapi.Container{Id: name + string(rune('a'+attempt)), Metadata: &runtimeapi.ContainerMetadata{Name: name, Attempt: attempt}, CreatedAt: int64(attempt), State: runtimeapi.ContainerState_CONTAINER_EXITED},
		status: &runtimeapi.ContainerStatus{State: runtimeapi.ContainerState_CONTAINER_EXITED, ExitCode: code, StartedAt: 1, FinishedAt: 2},
	}
}

func running(name string, attempt uint32) *containerInfo {
	return &containerInfo{
		c:      &runtimeapi.Container{Id: name + "r", Metadata: &runtimeapi.ContainerMetadata{Name: name, Attempt: attempt}, CreatedAt: int64(attempt) + 100, State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		status: &runtimeapi.ContainerStatus{State: runtimeapi.ContainerState_CONTAINER_RUNNING, StartedAt: 1},
	}
}

func TestPodPhase(t *testing.T) {
	pod := func(policy string, names ...string) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "default", Uid: "u"}, Spec: &corev1.PodSpec{RestartPolicy: policy}}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: n, Image: "tugboat.local/shell:latest"})
		}
		return p
	}
	tests := []struct {
		name       string
		pod        *corev1.Pod
		containers []*containerInfo
		want       string
		ready      string
	}{
		{"nothing yet", pod("Always", "a"), nil, "Pending", "False"},
		{"one of two running", pod("Always", "a", "b"), []*containerInfo{running("a", 0)}, "Pending", "False"},
		{"both running", pod("Always", "a", "b"), []*containerInfo{running("a", 0), running("b", 0)}, "Running", "True"},
		{"never, succeeded", pod("Never", "a"), []*containerInfo{exited("a", 0, 0)}, "Succeeded", "False"},
		{"never, failed", pod("Never", "a", "b"), []*containerInfo{exited("a", 0, 0), exited("b", 0, 2)}, "Failed", "False"},
		{"on failure, failed: restarts", pod("OnFailure", "a"), []*containerInfo{exited("a", 0, 1)}, "Running", "False"},
		{"on failure, done", pod("OnFailure", "a"), []*containerInfo{exited("a", 1, 0), exited("a", 0, 1)}, "Succeeded", "False"},
		{"always, exited between restarts", pod("Always", "a"), []*containerInfo{exited("a", 0, 1)}, "Running", "False"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Manager{cfg: Config{NodeIP: "127.0.0.1", RuntimeName: "containerd"}, waiting: map[string]map[string]waitReason{}, podIPs: map[string]string{}}
			st := m.podStatus(tt.pod, &podRuntime{uid: "u", containers: tt.containers}, time.Now())
			if st.GetPhase() != tt.want {
				t.Errorf("phase %s, want %s", st.GetPhase(), tt.want)
			}
			for _, c := range st.GetConditions() {
				if c.GetType() == "Ready" && c.GetStatus() != tt.ready {
					t.Errorf("Ready %s, want %s", c.GetStatus(), tt.ready)
				}
			}
		})
	}
}

func TestContainerStatusCrashLoop(t *testing.T) {
	m := &Manager{cfg: Config{RuntimeName: "containerd"}, waiting: map[string]map[string]waitReason{}, podIPs: map[string]string{}}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Uid: "u"}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "a", Image: "i"}}}}
	m.setWaiting(pod, "a", &waitReason{"CrashLoopBackOff", "back-off 10s"})
	cs := m.containerStatus(pod, pod.Spec.Containers[0], &podRuntime{uid: "u", containers: []*containerInfo{exited("a", 2, 3), exited("a", 1, 3)}})
	if cs.GetState().GetWaiting().GetReason() != "CrashLoopBackOff" {
		t.Errorf("state %v, want waiting CrashLoopBackOff", cs.GetState())
	}
	if cs.GetLastState().GetTerminated().GetExitCode() != 3 || cs.GetRestartCount() != 2 {
		t.Errorf("lastState %v restartCount %d, want exit 3 and 2 restarts", cs.GetLastState(), cs.GetRestartCount())
	}
	if cs.GetReady() {
		t.Error("a crash-looping container is ready")
	}
}

func TestSandboxConfig(t *testing.T) {
	m := &Manager{cfg: Config{LogDir: "/var/log/pods"}}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "ns", Uid: "u1"}, Spec: &corev1.PodSpec{Containers: []*corev1.Container{
		{Name: "a", Ports: []*corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 53, Protocol: "UDP"}}},
	}}}
	cfg := m.sandboxConfig(pod, 1)
	if cfg.GetLogDirectory() != "/var/log/pods/ns_web_u1" || cfg.GetHostname() != "web" || cfg.GetMetadata().GetAttempt() != 1 {
		t.Errorf("config %v", cfg)
	}
	if len(cfg.GetPortMappings()) != 1 || cfg.GetPortMappings()[0].GetHostPort() != 8080 {
		t.Errorf("port mappings %v, want only the host port", cfg.GetPortMappings())
	}
	if cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() != runtimeapi.NamespaceMode_POD {
		t.Error("pod network namespace expected")
	}
}
