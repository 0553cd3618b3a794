//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// withVolume adds a volume to a shell pod, mounted at /vol/<name>.
func withVolume(p *corev1.Pod, v *corev1.Volume) *corev1.Pod {
	p.Spec.Volumes = append(p.Spec.Volumes, v)
	c := p.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, &corev1.VolumeMount{Name: v.GetName(), MountPath: "/vol/" + v.GetName()})
	return p
}

// A restarted kubelet adopts the running containers instead of restarting
// them, with their volumes; the volumes of a pod deleted meanwhile are
// unmounted and removed. Not parallel: it restarts the shared kubelet
// before the parallel tests begin.
func TestKubeletRestartAdoptsContainers(t *testing.T) {
	ns := namespace(t)
	if _, err := cluster.CS.Secrets().Create(context.Background(), &corev1.Secret{ApiVersion: "v1", Kind: "Secret",
		Metadata: &metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"token": "t0ken"}}); err != nil {
		t.Fatal(err)
	}
	survivor := withVolume(shellPod("survivor", "sleep", "100000"), &corev1.Volume{Name: "token", Secret: &corev1.SecretVolumeSource{SecretName: "token"}})
	createPod(t, ns, survivor)
	before := waitPod(t, ns, "survivor", 60*time.Second, "Running", running)
	id := before.GetStatus().GetContainerStatuses()[0].GetContainerId()
	orphan := createPod(t, ns, withVolume(shellPod("orphan", "sleep", "100000"), &corev1.Volume{Name: "scratch", EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory"}}))
	orphanVolumes := filepath.Join(cluster.KubeletDir, "pod-volumes", orphan.GetMetadata().GetUid())
	waitPod(t, ns, "orphan", 60*time.Second, "Running", running)
	if m, _ := os.ReadFile("/proc/self/mountinfo"); !bytes.Contains(m, []byte(orphanVolumes)) {
		t.Fatalf("the orphan's memory emptyDir is not mounted under %s", orphanVolumes)
	}
	// Its sandbox (pause) and its container, by their labels.
	if ids := containers(t, "io.kubernetes.pod.name", "orphan"); len(ids) != 2 {
		t.Fatalf("containerd shows %d containers of the orphan pod, want 2", len(ids))
	}

	cluster.stopProc("kubelet")
	// Force-deleted while the kubelet is away: its sandbox belongs to no pod.
	if _, err := cluster.CS.Pods().Delete(context.Background(), &metav1.DeleteOptions{Namespace: ns, Name: "orphan", GracePeriodSeconds: ptr(int32(0))}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.startKubelet(); err != nil {
		t.Fatalf("kubelet restart: %v", err)
	}
	// A pod created after the restart runs: the new kubelet has synced
	// every pod of its node by then, the survivor included.
	createPod(t, ns, shellPod("newcomer", "sleep", "100000"))
	waitPod(t, ns, "newcomer", 60*time.Second, "Running", running)
	after := waitPod(t, ns, "survivor", 10*time.Second, "Running", running)
	cs := after.GetStatus().GetContainerStatuses()[0]
	if cs.GetContainerId() != id || cs.GetRestartCount() != 0 {
		t.Errorf("after the kubelet restart: container %s with %d restarts, want %s with 0", cs.GetContainerId(), cs.GetRestartCount(), id)
	}
	if !cs.GetState().GetRunning().GetStartedAt().AsTime().Equal(before.GetStatus().GetContainerStatuses()[0].GetState().GetRunning().GetStartedAt().AsTime()) {
		t.Errorf("container start time changed: it was restarted")
	}
	if out, _, code := execIn(t, ns, "survivor", "c", "echo", "still here"); code != 0 || out != "still here\n" {
		t.Errorf("exec after restart: %q exit %d", out, code)
	}
	if out, _, code := execIn(t, ns, "survivor", "c", "cat", "/vol/token/token"); code != 0 || out != "t0ken" {
		t.Errorf("secret volume after restart: %q exit %d", out, code)
	}
	// The orphan's volume is unmounted and gone.
	if err := poll(30*time.Second, func() error {
		if m, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(m, []byte(orphanVolumes)) {
			return fmt.Errorf("a mount under %s is left", orphanVolumes)
		}
		if _, err := os.Stat(orphanVolumes); !os.IsNotExist(err) {
			return fmt.Errorf("%s left", orphanVolumes)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	// The orphan's sandbox and container are gone.
	if err := poll(30*time.Second, func() error {
		if ids := containers(t, "io.kubernetes.pod.name", "orphan"); len(ids) > 0 {
			return fmt.Errorf("containers of the orphan left: %v", ids)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
