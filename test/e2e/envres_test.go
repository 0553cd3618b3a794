//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// Seed 004's pod-env: printenv shows SIMPLE_SERVICE_VERSION=1.0; with it,
// pod fields and a secret key. The key is missing at first: the container
// waits with CreateContainerConfigError and starts once the key exists.
func TestPodEnv(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	ctx := context.Background()
	if _, err := cluster.CS.Secrets().Create(ctx, &corev1.Secret{ApiVersion: "v1", Kind: "Secret",
		Metadata: &metav1.ObjectMeta{Name: "db", Namespace: ns}, StringData: map[string]string{"user": "admin"}}); err != nil {
		t.Fatal(err)
	}
	pod := seedPod(t, "pod-env.yaml")
	c := pod.Spec.Containers[0]
	c.Env = append(c.Env,
		&corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		&corev1.EnvVar{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		&corev1.EnvVar{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Name: "db", Key: "password"}}},
	)
	c.EnvFrom = []*corev1.EnvFromSource{{Prefix: "DB_", SecretRef: &corev1.SecretEnvSource{Name: "db"}}}
	createPod(t, ns, pod)
	p := waitPod(t, ns, "pod-env", 60*time.Second, "waiting for its secret key", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		return len(cs) == 1 && cs[0].GetState().GetWaiting().GetReason() == "CreateContainerConfigError"
	})
	if msg := p.GetStatus().GetContainerStatuses()[0].GetState().GetWaiting().GetMessage(); !strings.Contains(msg, "couldn't find key password in Secret "+ns+"/db") {
		t.Errorf("waiting message %q does not say which key is missing", msg)
	}
	sec, err := cluster.CS.Secrets().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "db"})
	if err != nil {
		t.Fatal(err)
	}
	sec = proto.Clone(sec).(*corev1.Secret)
	sec.Data["password"] = []byte("s3cret")
	if _, err := cluster.CS.Secrets().Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	p = waitPod(t, ns, "pod-env", 60*time.Second, "Running once the key exists", running)
	out, _, code := execIn(t, ns, "pod-env", "sise", "printenv")
	if code != 0 {
		t.Fatalf("printenv exit %d", code)
	}
	for _, want := range []string{"SIMPLE_SERVICE_VERSION=1.0", "POD_NAME=pod-env", "POD_IP=" + p.GetStatus().GetPodIp(), "DB_PASSWORD=s3cret", "DB_user=admin"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("printenv lacks %s:\n%s", want, out)
		}
	}
}

// Seed 004's second-pod limits reach the container's cgroup: 64Mi of
// memory, half a CPU; the pod is Burstable.
func TestResourceLimits(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, seedPod(t, "second-pod.yaml"))
	p := waitPod(t, ns, "second-pod", 60*time.Second, "Running", running)
	if q := p.GetStatus().GetQosClass(); q != "Burstable" {
		t.Errorf("qosClass %q, want Burstable", q)
	}
	read := func(paths ...string) string {
		out, _, _ := execIn(t, ns, "second-pod", "sise", "sh", "-c", "cat "+strings.Join(paths, " ")+" 2>/dev/null")
		return strings.TrimSpace(out)
	}
	// cgroup v1 or v2, whichever the host has.
	if mem := read("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"); mem != "67108864" {
		t.Errorf("memory limit %q, want 67108864", mem)
	}
	if cpu := read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max"); cpu != "50000" && cpu != "50000 100000" {
		t.Errorf("cpu quota %q, want 50000 per 100000", cpu)
	}
}

// A 64Mi-limited container that allocates 200Mi is OOMKilled: reason and
// exit code 137 reported.
func TestOOMKilled(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := &corev1.Pod{ApiVersion: "v1", Kind: "Pod", Metadata: &metav1.ObjectMeta{Name: "hog"}, Spec: &corev1.PodSpec{
		RestartPolicy: "Never",
		Containers: []*corev1.Container{{
			Name: "hog", Image: "tugboat.local/shell:latest", Command: []string{"hog", "200Mi"},
			Resources: &corev1.ResourceRequirements{Limits: map[string]string{"memory": "64Mi", "cpu": "500m"}},
		}},
	}}
	createPod(t, ns, pod)
	p := waitPod(t, ns, "hog", 90*time.Second, "Failed", func(p *corev1.Pod) bool { return p.GetStatus().GetPhase() == "Failed" })
	term := p.GetStatus().GetContainerStatuses()[0].GetState().GetTerminated()
	if term.GetReason() != "OOMKilled" || term.GetExitCode() != 137 {
		t.Errorf("terminated %v, want OOMKilled with exit code 137", term)
	}
	if q := p.GetStatus().GetQosClass(); q != "Guaranteed" {
		t.Errorf("qosClass %q, want Guaranteed (limits only: requests default to them)", q)
	}
	if log := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "hog"}); !strings.Contains(log, "hog: holding 1 MiB") || strings.Contains(log, "allocated") {
		t.Errorf("log %q: want it to have started and not finished", log)
	}
}

// A config map as a volume (items with their paths and modes) and as env;
// an update reaches the file.
func TestConfigMap(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	ctx := context.Background()
	cm, err := cluster.CS.ConfigMaps().Create(ctx, &corev1.ConfigMap{ApiVersion: "v1", Kind: "ConfigMap",
		Metadata: &metav1.ObjectMeta{Name: "conf", Namespace: ns}, Data: map[string]string{"app.properties": "mode=prod\n", "LEVEL": "info"}})
	if err != nil {
		t.Fatal(err)
	}
	pod := shellPod("conf", "sleep", "100000")
	pod.Spec.Volumes = []*corev1.Volume{{Name: "conf", ConfigMap: &corev1.ConfigMapVolumeSource{Name: "conf",
		Items: []*corev1.KeyToPath{{Key: "app.properties", Path: "etc/app.properties", Mode: proto.Int32(0o600)}}}}}
	c := pod.Spec.Containers[0]
	c.VolumeMounts = []*corev1.VolumeMount{{Name: "conf", MountPath: "/conf"}}
	c.Env = []*corev1.EnvVar{{Name: "LOG_LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Name: "conf", Key: "LEVEL"}}}}
	createPod(t, ns, pod)
	waitPod(t, ns, "conf", 60*time.Second, "Running", running)
	if out, _, code := execIn(t, ns, "conf", "c", "cat", "/conf/etc/app.properties"); code != 0 || out != "mode=prod\n" {
		t.Errorf("cat = %q (exit %d)", out, code)
	}
	if out, _, _ := execIn(t, ns, "conf", "c", "stat", "-L", "-c", "%a", "/conf/etc/app.properties"); strings.TrimSpace(out) != "600" {
		t.Errorf("mode %q, want the item's 600", out)
	}
	if out, _, _ := execIn(t, ns, "conf", "c", "ls", "/conf"); strings.TrimSpace(out) != "etc" {
		t.Errorf("ls /conf = %q, want only the item's directory", out)
	}
	if out, _, _ := execIn(t, ns, "conf", "c", "printenv", "LOG_LEVEL"); out != "info\n" {
		t.Errorf("LOG_LEVEL = %q", out)
	}
	cm = proto.Clone(cm).(*corev1.ConfigMap)
	cm.Data["app.properties"] = "mode=debug\n"
	if _, err := cluster.CS.ConfigMaps().Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := poll(30*time.Second, func() error {
		if out, _, _ := execIn(t, ns, "conf", "c", "cat", "/conf/etc/app.properties"); out != "mode=debug\n" {
			return fmt.Errorf("file holds %q", out)
		}
		return nil
	}); err != nil {
		t.Errorf("config map update never reached the volume: %v", err)
	}
}
