package integration

import (
	"fmt"
	"maps"
	"net/netip"
	"runtime"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// hollowNodes is how many hollow nodes each test runs.
const hollowNodes = 5

// hollowCapacity is the capacity of the test's hollow nodes.
const hollowCapacity = "cpu=2,memory=4Gi,pods=20"

// hollowImage is an image the fake runtimes can pull: only the registry
// tugboat.local is known to them.
const hollowImage = "tugboat.local/app:1"

// hollowCluster is an apiserver, a scheduler and hollowNodes hollow
// kubelets.
type hollowCluster struct {
	*cluster
	hollow *harness.HollowKubelets
}

func startHollowCluster(t *testing.T) *hollowCluster {
	t.Helper()
	c := startCluster(t, harness.SchedulerOptions{})
	h := harness.StartHollowKubelets(t, c.api, hollowNodes, harness.WithHollowCapacity(hollowCapacity))
	return &hollowCluster{cluster: c, hollow: h}
}

func image(ref string) podOption {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Image = ref }
}

// waitRunning waits until the pod is Running with its one container
// running and ready, and returns it.
func (c *cluster) waitRunning(name string) *corev1.Pod {
	c.t.Helper()
	var pod *corev1.Pod
	harness.Poll(c.t, waitTimeout, "pod "+name+" is Running and ready", func() (bool, string) {
		pod = c.getPod(name)
		st := pod.GetStatus()
		cs := st.GetContainerStatuses()
		if st.GetPhase() != "Running" || len(cs) != 1 || !cs[0].GetReady() || cs[0].GetState().GetRunning() == nil {
			return false, fmt.Sprintf("phase %q, container statuses %v", st.GetPhase(), cs)
		}
		return true, ""
	})
	return pod
}

func TestHollowNodesRegister(t *testing.T) {
	api := harness.StartAPIServer(t)
	h := harness.StartHollowKubelets(t, api, hollowNodes, harness.WithHollowCapacity(hollowCapacity))
	ctx := harness.Context(t, waitTimeout)

	want := map[string]string{"cpu": "2", "memory": "4Gi", "pods": "20"}
	for i, name := range h.Nodes {
		if wantName := fmt.Sprintf("hollow-hollow-%d", i); name != wantName {
			t.Fatalf("node %d is named %q, want %q", i, name, wantName)
		}
		n, err := api.Client.Nodes().Get(ctx, &metav1.GetOptions{Name: name})
		if err != nil {
			t.Fatalf("get node %s: %v", name, err)
		}
		st := n.GetStatus()
		if !maps.Equal(st.GetCapacity(), want) || !maps.Equal(st.GetAllocatable(), want) {
			t.Errorf("node %s: capacity %v, allocatable %v, want both %v", name, st.GetCapacity(), st.GetAllocatable(), want)
		}
		labels := n.GetMetadata().GetLabels()
		for k, v := range map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
			"kubernetes.io/arch": runtime.GOARCH, harness.HollowLabel: "true",
		} {
			if labels[k] != v {
				t.Errorf("node %s: label %s=%q, want %q", name, k, labels[k], v)
			}
		}
		addrs := map[string]string{}
		for _, a := range st.GetAddresses() {
			addrs[a.GetType()] = a.GetAddress()
		}
		if addrs["InternalIP"] != "127.0.0.1" || addrs["Hostname"] != name {
			t.Errorf("node %s: addresses %v, want InternalIP 127.0.0.1 and Hostname %s", name, st.GetAddresses(), name)
		}
		info := st.GetNodeInfo()
		if info.GetOperatingSystem() != "linux" || info.GetArchitecture() != runtime.GOARCH ||
			info.GetKubeletVersion() == "" || info.GetContainerRuntimeVersion() != "fakeruntime://0.1.0" {
			t.Errorf("node %s: nodeInfo %v", name, info)
		}
		var ready *corev1.NodeCondition
		for _, cond := range st.GetConditions() {
			if cond.GetType() == "Ready" {
				ready = cond
			}
		}
		if ready.GetStatus() != "True" || ready.GetReason() != "KubeletReady" || ready.GetLastHeartbeatTime() == nil {
			t.Errorf("node %s: Ready condition %v, want True/KubeletReady with a heartbeat", name, ready)
		}
		if cidr := fmt.Sprintf("10.244.%d.0/24", i); n.GetSpec().GetPodCidr() != cidr {
			t.Errorf("node %s: podCIDR %q, want %q", name, n.GetSpec().GetPodCidr(), cidr)
		}

		// The lease is first written just after the node registers.
		harness.Poll(t, waitTimeout, "node "+name+" has its Lease", func() (bool, string) {
			l, err := api.Client.Leases().Get(ctx, &metav1.GetOptions{Namespace: "kube-node-lease", Name: name})
			if status.Code(err) == codes.NotFound {
				return false, "no lease"
			}
			if err != nil {
				t.Fatalf("get lease %s: %v", name, err)
			}
			spec := l.GetSpec()
			if spec.GetHolderIdentity() != name || spec.GetLeaseDurationSeconds() <= 0 || spec.GetRenewTime() == nil {
				t.Fatalf("lease of %s: spec %v, want held by the node, with a duration and a renew time", name, spec)
			}
			owners := l.GetMetadata().GetOwnerReferences()
			if len(owners) != 1 || owners[0].GetKind() != "Node" || owners[0].GetName() != name || owners[0].GetUid() != n.GetMetadata().GetUid() {
				t.Fatalf("lease of %s: ownerReferences %v, want its Node (uid %s)", name, owners, n.GetMetadata().GetUid())
			}
			return true, ""
		})
	}
}

func TestPodsRunOnHollowNodes(t *testing.T) {
	c := startHollowCluster(t)
	const pods = 20
	for i := range pods {
		c.createPod(fmt.Sprintf("web-%02d", i), image(hollowImage), requests("100m", "64Mi"), ownedBy("ReplicaSet", "web", "rs-web-uid"))
	}

	perNode := map[string]int{}
	for i := range pods {
		name := fmt.Sprintf("web-%02d", i)
		p := c.waitRunning(name)
		node := p.GetSpec().GetNodeName()
		perNode[node]++
		n, err := c.api.Client.Nodes().Get(harness.Context(t, waitTimeout), &metav1.GetOptions{Name: node})
		if err != nil {
			t.Fatalf("pod %s is on node %q: %v", name, node, err)
		}
		if n.GetMetadata().GetLabels()[harness.HollowLabel] != "true" {
			t.Fatalf("pod %s is on node %s, which is not hollow", name, node)
		}
		st := p.GetStatus()
		ip, err := netip.ParseAddr(st.GetPodIp())
		if err != nil || !netip.MustParsePrefix(n.GetSpec().GetPodCidr()).Contains(ip) {
			t.Errorf("pod %s: podIP %q, want an address of its node's podCIDR %s", name, st.GetPodIp(), n.GetSpec().GetPodCidr())
		}
		if st.GetHostIp() != "127.0.0.1" {
			t.Errorf("pod %s: hostIP %q, want the node's 127.0.0.1", name, st.GetHostIp())
		}
		cs := st.GetContainerStatuses()[0]
		if cs.GetName() != "app" || cs.GetRestartCount() != 0 || cs.GetContainerId() == "" || cs.GetImageId() == "" {
			t.Errorf("pod %s: container status %v, want app with restartCount 0, a containerID and an imageID", name, cs)
		}
		conds := map[string]string{}
		for _, cond := range st.GetConditions() {
			conds[cond.GetType()] = cond.GetStatus()
		}
		for _, typ := range []string{"PodScheduled", "Initialized", "ContainersReady", "Ready"} {
			if conds[typ] != "True" {
				t.Errorf("pod %s: condition %s=%q, want True (all: %v)", name, typ, conds[typ], st.GetConditions())
			}
		}
	}

	// Replicas of one owner spread: every node gets some, none most.
	if len(perNode) != hollowNodes {
		t.Errorf("%d pods of one ReplicaSet landed on %d of %d nodes: %v", pods, len(perNode), hollowNodes, perNode)
	}
	for node, n := range perNode {
		if n > pods/2 {
			t.Errorf("node %s got %d of %d pods of one ReplicaSet: %v", node, n, pods, perNode)
		}
	}
}

func TestHollowKubeletCompletesPodDeletion(t *testing.T) {
	c := startHollowCluster(t)
	c.createPod("doomed", image(hollowImage))
	c.waitRunning("doomed")

	// The default grace period: the apiserver only marks the pod, and the
	// object goes once its kubelet has stopped it and confirmed.
	ctx := harness.Context(t, waitTimeout)
	marked, err := c.api.Client.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: "doomed"})
	if err != nil {
		t.Fatalf("delete pod: %v", err)
	}
	if marked.GetMetadata().GetDeletionTimestamp() == nil || marked.GetMetadata().GetDeletionGracePeriodSeconds() != 30 {
		t.Fatalf("deleting a running pod returned metadata %v, want a deletionTimestamp and a grace period of 30 s", marked.GetMetadata())
	}
	harness.Poll(t, waitTimeout, "pod doomed is gone", func() (bool, string) {
		p, err := c.api.Client.Pods().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "doomed"})
		if status.Code(err) == codes.NotFound {
			return true, ""
		}
		if err != nil {
			t.Fatalf("get pod: %v", err)
		}
		return false, fmt.Sprintf("phase %q, container statuses %v", p.GetStatus().GetPhase(), p.GetStatus().GetContainerStatuses())
	})
	ev := c.waitEvent("doomed", "Killing")
	if ev.GetType() != "Normal" || ev.GetMessage() != "Stopping container app" || ev.GetSource().GetComponent() != "kubelet" {
		t.Fatalf("Killing event = %v", ev)
	}
}

func TestPodBiggerThanEveryHollowNodeStaysPending(t *testing.T) {
	c := startHollowCluster(t)
	c.createPod("huge", image(hollowImage), requests("3", "1Gi"))

	want := fmt.Sprintf("0/%d nodes are available: %d Insufficient cpu.", hollowNodes, hollowNodes)
	c.waitUnschedulableWith("huge", want)
	// A pod that fits still runs: the nodes are usable, just too small.
	c.createPod("fits", image(hollowImage), requests("1", "1Gi"))
	c.waitRunning("fits")
	if p := c.getPod("huge"); p.GetSpec().GetNodeName() != "" || p.GetStatus().GetPhase() != "Pending" {
		t.Fatalf("pod huge is bound to %q in phase %q, want unbound and Pending", p.GetSpec().GetNodeName(), p.GetStatus().GetPhase())
	}
}
