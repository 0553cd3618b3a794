//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	apietcd "github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Seed 004's pod-volume: a file written in c1's /tmp/xchange is read in
// c2's /tmp/data; the emptyDir goes with the pod.
func TestPodVolume(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := createPod(t, ns, seedPod(t, "pod-volume.yaml"))
	waitPod(t, ns, "pod-volume", 60*time.Second, "Running", running)
	if _, stderr, code := execIn(t, ns, "pod-volume", "c1", "sh", "-c", "echo 'some data' > /tmp/xchange/data"); code != 0 {
		t.Fatalf("write in c1: exit %d %s", code, stderr)
	}
	out, stderr, code := execIn(t, ns, "pod-volume", "c2", "cat", "/tmp/data/data")
	if code != 0 || out != "some data\n" {
		t.Fatalf("c2 reads %q (exit %d, %s), want c1's file", out, code, stderr)
	}
	dir := filepath.Join(cluster.KubeletDir, "pod-volumes", pod.GetMetadata().GetUid())
	if _, err := os.Stat(filepath.Join(dir, "volumes/empty-dir/xchange/data")); err != nil {
		t.Errorf("the emptyDir is not under the kubelet's root: %v", err)
	}
	deletePod(t, ns, "pod-volume")
	if err := poll(30*time.Second, func() error {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			return fmt.Errorf("%s still there (%v)", dir, err)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// Seed 004's pod-secret: the secret's file in a read-only tmpfs; an update
// of the secret reaches the file; the pod's deletion unmounts it; etcd
// holds only ciphertext.
func TestPodSecret(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	ctx := context.Background()
	const apikey = "A19fh68B001j"
	_, err := cluster.CS.Secrets().Create(ctx, &corev1.Secret{ApiVersion: "v1", Kind: "Secret",
		Metadata: &metav1.ObjectMeta{Name: "apikey", Namespace: ns}, Data: map[string][]byte{"apikey.txt": []byte(apikey)}})
	if err != nil {
		t.Fatal(err)
	}
	pod := createPod(t, ns, seedPod(t, "pod-secret.yaml"))
	waitPod(t, ns, "pod-secret", 60*time.Second, "Running", running)
	if out, _, code := execIn(t, ns, "pod-secret", "shell", "cat", "/tmp/apikey/apikey.txt"); code != 0 || out != apikey {
		t.Errorf("cat apikey.txt = %q (exit %d), want %q", out, code, apikey)
	}
	mounts, _, _ := execIn(t, ns, "pod-secret", "shell", "mount")
	var line string
	for _, l := range strings.Split(mounts, "\n") {
		if strings.Contains(l, " /tmp/apikey ") {
			line = l
		}
	}
	if !strings.HasPrefix(line, "tmpfs on /tmp/apikey type tmpfs (ro,") {
		t.Errorf("mount line %q, want a read-only tmpfs", line)
	}
	if _, _, code := execIn(t, ns, "pod-secret", "shell", "sh", "-c", "echo x > /tmp/apikey/new"); code == 0 {
		t.Error("wrote into the secret volume")
	}

	// Straight from etcd: ciphertext, no trace of the key. The secure
	// apiserver's embedded etcd serves TLS (whatever the scheme of its
	// --etcd-client-url) to clients of its own CA: the cert dir's
	// apiserver-etcd-client pair.
	etcdTLS, err := apietcd.ClientTLS(pki.Dir(cluster.CertDir).EtcdPaths())
	if err != nil {
		t.Fatal(err)
	}
	etcdURL := "https://" + strings.TrimPrefix(cluster.EtcdURL, "http://")
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 10 * time.Second, Logger: zap.NewNop(), TLS: etcdTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	resp, err := etcd.Get(ctx, "/registry/secrets/"+ns+"/apikey")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("etcd get: %v", err)
	}
	raw := resp.Kvs[0].Value
	if !bytes.HasPrefix(raw, []byte("tugboat:enc:aesgcm:v1:")) || bytes.Contains(raw, []byte(apikey)) || bytes.Contains(raw, []byte("apikey.txt")) {
		t.Errorf("etcd holds %q..., want ciphertext only", raw[:min(len(raw), 60)])
	}

	// An update reaches the mounted file.
	sec, err := cluster.CS.Secrets().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "apikey"})
	if err != nil {
		t.Fatal(err)
	}
	sec = proto.Clone(sec).(*corev1.Secret)
	sec.Data["apikey.txt"] = []byte("rotated-key")
	if _, err := cluster.CS.Secrets().Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if err := poll(30*time.Second, func() error {
		if out, _, _ := execIn(t, ns, "pod-secret", "shell", "cat", "/tmp/apikey/apikey.txt"); out != "rotated-key" {
			return fmt.Errorf("file holds %q", out)
		}
		return nil
	}); err != nil {
		t.Errorf("secret update never reached the volume: %v", err)
	}

	dir := filepath.Join(cluster.KubeletDir, "pod-volumes", pod.GetMetadata().GetUid())
	deletePod(t, ns, "pod-secret")
	if err := poll(30*time.Second, func() error {
		if m, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(m, []byte(dir)) {
			return fmt.Errorf("a mount under %s is left", dir)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			return fmt.Errorf("%s still there", dir)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// Seed 004's pod-healthcheck1 with /health failing after 2 requests: the
// liveness probe fails three times and the container is restarted.
func TestLivenessProbeRestarts(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := seedPod(t, "pod-healthcheck1.yaml")
	pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, &corev1.EnvVar{Name: "HEALTH_FAIL_AFTER", Value: "2"})
	createPod(t, ns, pod)
	p := waitPod(t, ns, "pod-healthcheck1", 90*time.Second, "restarted by its liveness probe", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetRestartCount() >= 1 && cs[0].GetState().GetRunning() != nil
	})
	if last := p.GetStatus().GetContainerStatuses()[0].GetLastState().GetTerminated(); last == nil {
		t.Errorf("no lastState.terminated after the restart: %v", p.GetStatus().GetContainerStatuses()[0])
	}
	if e := waitEvent(t, ns, "pod-healthcheck1", "Unhealthy"); !strings.Contains(e, "Liveness probe failed: HTTP probe failed with statuscode: 500") {
		t.Errorf("Unhealthy event %q", e)
	}
	if e := waitEvent(t, ns, "pod-healthcheck1", "Killing"); !strings.Contains(e, "failed liveness probe, will be restarted") {
		t.Errorf("Killing event %q", e)
	}
}

// Seed 004's pod-healthcheck2: not Ready before its readiness probe's
// initial 10 s, Ready once it passes.
func TestReadinessProbeGatesReady(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, seedPod(t, "pod-healthcheck2.yaml"))
	p := waitPod(t, ns, "pod-healthcheck2", 60*time.Second, "running", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetState().GetRunning() != nil
	})
	started := p.GetStatus().GetContainerStatuses()[0].GetState().GetRunning().GetStartedAt().AsTime()
	if time.Since(started) < 8*time.Second {
		if podReady(p) || p.GetStatus().GetContainerStatuses()[0].GetReady() {
			t.Errorf("Ready %v before the readiness probe's initial delay", time.Since(started))
		}
	}
	p = waitPod(t, ns, "pod-healthcheck2", 60*time.Second, "Ready", podReady)
	var readyAt time.Time
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			readyAt = c.GetLastTransitionTime().AsTime()
		}
	}
	// Timestamps are whole seconds: allow one.
	if readyAt.Before(started.Add(9 * time.Second)) {
		t.Errorf("Ready at %v, %v after the start, want after initialDelaySeconds 10", readyAt, readyAt.Sub(started))
	}
	if !p.GetStatus().GetContainerStatuses()[0].GetReady() {
		t.Error("the pod is Ready, its container is not")
	}
}

// A readiness probe on a port nothing listens on: never Ready, and the
// Events say why.
func TestReadinessProbeOnClosedPort(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := seedPod(t, "pod-healthcheck2.yaml")
	pod.Metadata.Name = "closed-port"
	rp := pod.Spec.Containers[0].ReadinessProbe
	rp.HttpGet = nil
	rp.TcpSocket = &corev1.TCPSocketAction{Port: structpb.NewNumberValue(9999)}
	rp.InitialDelaySeconds, rp.PeriodSeconds = 0, 1
	createPod(t, ns, pod)
	waitPod(t, ns, "closed-port", 60*time.Second, "Running", func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Running" })
	if e := waitEvent(t, ns, "closed-port", "Unhealthy"); !strings.Contains(e, "Readiness probe failed") || !strings.Contains(e, "connection refused") {
		t.Errorf("Unhealthy event %q", e)
	}
	p, err := cluster.CS.Pods().Get(context.Background(), &metav1.GetOptions{Namespace: ns, Name: "closed-port"})
	if err != nil {
		t.Fatal(err)
	}
	if podReady(p) || p.GetStatus().GetContainerStatuses()[0].GetReady() {
		t.Errorf("Ready with its readiness probe on a closed port: %v", p.GetStatus())
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// deletePod deletes a pod and waits until it is gone.
func deletePod(t *testing.T, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cluster.CS.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: name, GracePeriodSeconds: ptr(int32(1))}); err != nil {
		t.Fatalf("delete pod %s: %v", name, err)
	}
	if err := poll(60*time.Second, func() error {
		if _, err := cluster.CS.Pods().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: name}); err == nil {
			return fmt.Errorf("pod %s still there", name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// emptyDir sizeLimit: a memory one is a tmpfs of that size (a bigger write
// fails), a disk one over its limit evicts the pod.
func TestEmptyDirSizeLimit(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := &corev1.Pod{ApiVersion: "v1", Kind: "Pod", Metadata: &metav1.ObjectMeta{Name: "limited"}, Spec: &corev1.PodSpec{
		Containers: []*corev1.Container{{
			Name: "c", Image: "tugboat.local/shell:latest", Command: []string{"sleep", "10000"},
			VolumeMounts: []*corev1.VolumeMount{{Name: "mem", MountPath: "/mem"}, {Name: "disk", MountPath: "/disk"}},
		}},
		Volumes: []*corev1.Volume{
			{Name: "mem", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "1Mi"}},
			{Name: "disk", EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: "1Mi"}},
		},
	}}
	pod = createPod(t, ns, pod)
	waitPod(t, ns, "limited", 60*time.Second, "Running", running)
	_, stderr, code := execIn(t, ns, "limited", "c", "dd", "if=/dev/zero", "of=/mem/blob", "bs=1024", "count=2048")
	if code == 0 || !strings.Contains(stderr, "No space left") {
		t.Errorf("2 MiB into a 1Mi memory emptyDir: exit %d, %q", code, stderr)
	}
	if _, stderr, code := execIn(t, ns, "limited", "c", "dd", "if=/dev/zero", "of=/disk/blob", "bs=1024", "count=2048"); code != 0 {
		t.Fatalf("write to the disk emptyDir: exit %d %s", code, stderr)
	}
	p := waitPod(t, ns, "limited", 60*time.Second, "evicted", func(p *corev1.Pod) bool { return p.GetStatus().GetReason() == "Evicted" })
	if p.GetStatus().GetPhase() != "Failed" || !strings.Contains(p.GetStatus().GetMessage(), `Usage of EmptyDir volume "disk" exceeds the limit "1Mi"`) {
		t.Errorf("status %s: %s", p.GetStatus().GetPhase(), p.GetStatus().GetMessage())
	}
	waitEvent(t, ns, "limited", "Evicted")
	// A finished pod keeps no volumes: the tmpfs goes once its sandbox stopped.
	dir := filepath.Join(cluster.KubeletDir, "pod-volumes", pod.GetMetadata().GetUid())
	if err := poll(30*time.Second, func() error {
		if m, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(m, []byte(dir)) {
			return fmt.Errorf("a mount under %s is left", dir)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			return fmt.Errorf("%s left", dir)
		}
		return nil
	}); err != nil {
		t.Errorf("evicted pod's volumes: %v", err)
	}
}

// Exec probes through the runtime: a startup probe holds the container
// back (not started, not ready) until a file exists; then a liveness probe
// on another file restarts the container once the file is removed.
func TestExecProbes(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	exec := func(file string, threshold int32) *corev1.Probe {
		return &corev1.Probe{Exec: &corev1.ExecAction{Command: []string{"cat", file}}, PeriodSeconds: 1, FailureThreshold: threshold}
	}
	pod := &corev1.Pod{ApiVersion: "v1", Kind: "Pod", Metadata: &metav1.ObjectMeta{Name: "exec-probes"}, Spec: &corev1.PodSpec{
		Containers: []*corev1.Container{{
			Name: "c", Image: "tugboat.local/shell:latest",
			Command:       []string{"sh", "-c", "sleep 3; touch /tmp/started /tmp/healthy; exec sleep 10000"},
			StartupProbe:  exec("/tmp/started", 30),
			LivenessProbe: exec("/tmp/healthy", 1),
		}},
		TerminationGracePeriodSeconds: ptr(int32(1)),
	}}
	createPod(t, ns, pod)
	p := waitPod(t, ns, "exec-probes", 60*time.Second, "running", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetState().GetRunning() != nil
	})
	started := p.GetStatus().GetContainerStatuses()[0].GetState().GetRunning().GetStartedAt().AsTime()
	p = waitPod(t, ns, "exec-probes", 60*time.Second, "started", func(p *corev1.Pod) bool {
		return p.GetStatus().GetContainerStatuses()[0].GetStarted() && podReady(p)
	})
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" && c.GetLastTransitionTime().AsTime().Before(started.Add(2*time.Second)) {
			t.Errorf("Ready %v after the start, before the startup probe could pass (3 s)", c.GetLastTransitionTime().AsTime().Sub(started))
		}
	}
	if _, _, code := execIn(t, ns, "exec-probes", "c", "rm", "/tmp/healthy"); code != 0 {
		t.Fatalf("rm exit %d", code)
	}
	waitPod(t, ns, "exec-probes", 60*time.Second, "restarted", func(p *corev1.Pod) bool {
		return p.GetStatus().GetContainerStatuses()[0].GetRestartCount() >= 1
	})
	if e := waitEvent(t, ns, "exec-probes", "Killing"); !strings.Contains(e, "Container c failed liveness probe") {
		t.Errorf("Killing event %q", e)
	}
	if e := waitEvent(t, ns, "exec-probes", "Unhealthy"); !strings.Contains(e, `command "cat /tmp/healthy" exited with 1`) && !strings.Contains(e, `command "cat /tmp/started" exited with 1`) {
		t.Errorf("Unhealthy event %q", e)
	}
}

// An emptyDir outlives its containers: a restarted container reads what
// the one before it wrote.
func TestEmptyDirSurvivesRestart(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := withVolume(shellPod("keeper", "sh", "-c", "cat /vol/data/runs 2>/dev/null; echo run >> /vol/data/runs; sleep 1; exit 1"),
		&corev1.Volume{Name: "data", EmptyDir: &corev1.EmptyDirVolumeSource{}})
	createPod(t, ns, pod)
	waitPod(t, ns, "keeper", 60*time.Second, "restarted", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetRestartCount() >= 1
	})
	if err := poll(30*time.Second, func() error {
		if out := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "keeper"}); !strings.HasPrefix(out, "run\n") {
			return fmt.Errorf("the restarted container printed %q", out)
		}
		return nil
	}); err != nil {
		t.Errorf("the emptyDir did not keep the first run's file: %v", err)
	}
}
