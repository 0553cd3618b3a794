//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// Seed 004's second-pod: two containers (sise with limits, a shell) share
// one network namespace; exec in the shell reaches sise on localhost.
func TestSecondPod(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, seedPod(t, "second-pod.yaml"))
	p := waitPod(t, ns, "second-pod", 60*time.Second, "Running", running)
	if p.GetStatus().GetPodIp() == "" || !strings.HasPrefix(p.GetStatus().GetPodIp(), "10.244.") {
		t.Errorf("podIP %q, want one from the node's pod CIDR", p.GetStatus().GetPodIp())
	}
	if p.GetSpec().GetNodeName() != NodeName {
		t.Errorf("bound to %q, want %s", p.GetSpec().GetNodeName(), NodeName)
	}

	out, stderr, code := execIn(t, ns, "second-pod", "shell", "wget", "-qO-", "http://localhost:9876/info")
	if code != 0 {
		t.Fatalf("wget exit %d, stderr %q", code, stderr)
	}
	var info struct{ Host, Version, From string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("/info answered %q: %v", out, err)
	}
	if info.Version != "0.5.0" || info.Host != "localhost:9876" {
		t.Errorf("/info = %+v, want version 0.5.0 from host localhost:9876", info)
	}

	if _, _, code := execIn(t, ns, "second-pod", "shell", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}

	// Logs of both containers: sise logged the request, the shell nothing.
	sise := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "second-pod", Container: "sise"})
	if !strings.Contains(sise, "/info") {
		t.Errorf("sise log %q does not show the /info request", sise)
	}
	if got := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "second-pod", Container: "shell"}); got != "" {
		t.Errorf("shell log %q, want empty (sleep prints nothing)", got)
	}
	tail := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "second-pod", Container: "sise", TailLines: proto.Int64(1)})
	if strings.Count(tail, "\n") != 1 {
		t.Errorf("tailLines=1 gave %q", tail)
	}
	// And through REST with the real kubectl.
	kout, err := exec.Command("kubectl", "--kubeconfig", cluster.Kubeconfig, "-n", ns, "logs", "second-pod", "-c", "sise").CombinedOutput()
	if err != nil || string(kout) != sise {
		t.Errorf("kubectl logs: %v: %q, want %q", err, kout, sise)
	}
}

// Seed 004's specific-pod-node: pending until a node has the label.
func TestNodeSelectorWaitsForLabel(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, seedPod(t, "specific-pod-node.yaml"))
	waitPod(t, ns, "specific-pod-node", 30*time.Second, "unschedulable", func(p *corev1.Pod) bool {
		for _, c := range p.GetStatus().GetConditions() {
			if c.GetType() == "PodScheduled" && c.GetStatus() == "False" && c.GetReason() == "Unschedulable" {
				return true
			}
		}
		return false
	})
	ev := waitEvent(t, ns, "specific-pod-node", "FailedScheduling")
	if !strings.Contains(ev, "node affinity/selector") {
		t.Errorf("FailedScheduling event %q does not name the selector", ev)
	}
	setNodeLabel(t, "shouldrun", "here")
	t.Cleanup(func() { setNodeLabel(t, "shouldrun", "") })
	p := waitPod(t, ns, "specific-pod-node", 60*time.Second, "Running", running)
	if p.GetSpec().GetNodeName() != NodeName {
		t.Errorf("bound to %q", p.GetSpec().GetNodeName())
	}
}

// setNodeLabel sets (or with "" removes) a label on the e2e node.
func setNodeLabel(t *testing.T, key, value string) {
	t.Helper()
	ctx := context.Background()
	err := poll(10*time.Second, func() error {
		n, err := cluster.CS.Nodes().Get(ctx, &metav1.GetOptions{Name: NodeName})
		if err != nil {
			return err
		}
		if n.Metadata.Labels == nil {
			n.Metadata.Labels = map[string]string{}
		}
		if value == "" {
			delete(n.Metadata.Labels, key)
		} else {
			n.Metadata.Labels[key] = value
		}
		_, err = cluster.CS.Nodes().Update(ctx, n)
		return err
	})
	if err != nil {
		t.Fatalf("label node: %v", err)
	}
}

func shellPod(name string, cmd ...string) *corev1.Pod {
	return &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec: &corev1.PodSpec{
			TerminationGracePeriodSeconds: proto.Int32(30),
			Containers:                    []*corev1.Container{{Name: "c", Image: "tugboat.local/shell:latest", Command: cmd}},
		},
	}
}

// A crashing container is restarted with a growing back-off and reported
// as CrashLoopBackOff; its previous instance's log stays readable.
func TestCrashLoopBackOff(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, shellPod("crasher", "sh", "-c", "echo crashing; exit 3"))
	restarts := map[int32]time.Time{}
	sawBackOff := false
	waitPod(t, ns, "crasher", 90*time.Second, "restarted three times", func(p *corev1.Pod) bool {
		cs := p.GetStatus().GetContainerStatuses()
		if len(cs) != 1 {
			return false
		}
		if _, ok := restarts[cs[0].GetRestartCount()]; !ok {
			restarts[cs[0].GetRestartCount()] = time.Now()
		}
		if cs[0].GetState().GetWaiting().GetReason() == "CrashLoopBackOff" {
			sawBackOff = true
			if cs[0].GetLastState().GetTerminated().GetExitCode() != 3 {
				t.Errorf("lastState %v, want exit code 3", cs[0].GetLastState())
			}
		}
		return cs[0].GetRestartCount() >= 3
	})
	if !sawBackOff {
		t.Error("never reported CrashLoopBackOff")
	}
	// Restart 1 is at once, 2 after 10 s, 3 after 20 s.
	gap1, gap2 := restarts[2].Sub(restarts[1]), restarts[3].Sub(restarts[2])
	if gap1 < 8*time.Second || gap2 < gap1+5*time.Second {
		t.Errorf("restart gaps %v then %v: the back-off does not grow from 10s", gap1, gap2)
	}
	waitEvent(t, ns, "crasher", "BackOff")
	if prev := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: "crasher", Previous: true}); prev != "crashing\n" {
		t.Errorf("previous log %q", prev)
	}
}

// Deletion is graceful: SIGTERM first (the shell traps it and exits at
// once), and afterwards no sandbox, network namespace or route is left.
func TestGracefulDeletion(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	createPod(t, ns, shellPod("graceful", "sh", "-c", "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done"))
	p := waitPod(t, ns, "graceful", 60*time.Second, "Running", running)
	ip := p.GetStatus().GetPodIp()
	// The sandbox (pause) and the container, by their labels.
	if ids := containers(t, "io.kubernetes.pod.namespace", ns); len(ids) != 2 {
		t.Fatalf("containerd shows %d containers in namespace %s, want 2", len(ids), ns)
	}
	netns := netnsOf(t, ip)
	if netns == "" {
		t.Fatalf("no network namespace holds the pod IP %s", ip)
	}
	start := time.Now()
	if _, err := cluster.CS.Pods().Delete(context.Background(), &metav1.DeleteOptions{Namespace: ns, Name: "graceful"}); err != nil {
		t.Fatal(err)
	}
	if err := poll(40*time.Second, func() error {
		_, err := cluster.CS.Pods().Get(context.Background(), &metav1.GetOptions{Namespace: ns, Name: "graceful"})
		if err == nil {
			return os.ErrExist
		}
		return nil
	}); err != nil {
		t.Fatalf("pod not removed: %v", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("deletion took %v: SIGTERM was not delivered (grace period is 30s)", took)
	}
	if _, err := os.Stat("/var/run/netns/" + netns); !os.IsNotExist(err) {
		t.Errorf("network namespace %s of the pod is still there (%v)", netns, err)
	}
	routes, _ := exec.Command("ip", "route", "get", ip).CombinedOutput()
	if !strings.Contains(string(routes), "tug0") {
		t.Errorf("route to the old pod IP: %s (want only the node's bridge route)", routes)
	}
	if ids := containers(t, "io.kubernetes.pod.namespace", ns); len(ids) > 0 {
		t.Errorf("containers left: %v", ids)
	}
}

// netnsOf finds the CNI network namespace that holds ip.
func netnsOf(t *testing.T, ip string) string {
	t.Helper()
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out, err := exec.Command("ip", "netns", "exec", e.Name(), "ip", "-4", "-o", "addr").CombinedOutput()
		if err == nil && strings.Contains(string(out), " "+ip+"/") {
			return e.Name()
		}
	}
	return ""
}
