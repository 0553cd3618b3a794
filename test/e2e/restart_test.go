//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// A restarted kubelet adopts the running containers instead of restarting
// them. Not parallel: it restarts the shared kubelet before the parallel
// tests begin.
func TestKubeletRestartAdoptsContainers(t *testing.T) {
	ns := namespace(t)
	createPod(t, ns, shellPod("survivor", "sleep", "100000"))
	before := waitPod(t, ns, "survivor", 60*time.Second, "Running", running)
	id := before.GetStatus().GetContainerStatuses()[0].GetContainerId()
	createPod(t, ns, shellPod("orphan", "sleep", "100000"))
	waitPod(t, ns, "orphan", 60*time.Second, "Running", running)
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
