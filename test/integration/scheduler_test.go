package integration

import (
	"fmt"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
)

// waitTimeout bounds each wait for the scheduler to act.
const waitTimeout = 30 * time.Second

// cluster is an apiserver and a scheduler.
type cluster struct {
	t     *testing.T
	api   *harness.APIServer
	sched *harness.Scheduler
}

func startCluster(t *testing.T, opts harness.SchedulerOptions) *cluster {
	t.Helper()
	api := harness.StartAPIServer(t)
	return &cluster{t: t, api: api, sched: harness.StartScheduler(t, api, opts)}
}

// nodeSpec describes a node to register.
type nodeSpec struct {
	name        string
	cpu, memory string
	labels      map[string]string
	taints      []*corev1.Taint
}

// addNode registers a Ready node through the API, as a kubelet does.
func (c *cluster) addNode(n nodeSpec) {
	c.t.Helper()
	if n.cpu == "" {
		n.cpu = "4"
	}
	if n.memory == "" {
		n.memory = "16Gi"
	}
	res := map[string]string{"cpu": n.cpu, "memory": n.memory, "pods": "110"}
	_, err := c.api.Client.Nodes().Create(harness.Context(c.t, waitTimeout), &corev1.Node{
		ApiVersion: "v1", Kind: "Node",
		Metadata: &metav1.ObjectMeta{Name: n.name, Labels: n.labels},
		Spec:     &corev1.NodeSpec{Taints: n.taints},
		Status: &corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []*corev1.NodeCondition{{Type: "Ready", Status: "True", Reason: "KubeletReady"}},
		},
	})
	if err != nil {
		c.t.Fatalf("create node %s: %v", n.name, err)
	}
}

// podOption adjusts a pod before it is created.
type podOption func(*corev1.Pod)

func requests(cpu, memory string) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = &corev1.ResourceRequirements{Requests: map[string]string{"cpu": cpu, "memory": memory}}
	}
}

func nodeSelector(k, v string) podOption {
	return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
}

func toleration(key, value, effect string) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, &corev1.Toleration{Key: key, Operator: "Equal", Value: value, Effect: effect})
	}
}

func hostPort(port int32) podOption {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []*corev1.ContainerPort{{ContainerPort: port, HostPort: port}}
	}
}

func ownedBy(kind, name, uid string) podOption {
	return func(p *corev1.Pod) {
		p.Metadata.OwnerReferences = []*metav1.OwnerReference{{
			ApiVersion: "apps/v1", Kind: kind, Name: name, Uid: uid, Controller: proto.Bool(true),
		}}
	}
}

// createPod creates a pod in the default namespace.
func (c *cluster) createPod(name string, opts ...podOption) *corev1.Pod {
	c.t.Helper()
	p := &corev1.Pod{
		ApiVersion: "v1", Kind: "Pod",
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: "registry.local/app:1"}}},
	}
	for _, o := range opts {
		o(p)
	}
	out, err := c.api.Client.Pods().Create(harness.Context(c.t, waitTimeout), p)
	if err != nil {
		c.t.Fatalf("create pod %s: %v", name, err)
	}
	return out
}

func (c *cluster) getPod(name string) *corev1.Pod {
	c.t.Helper()
	p, err := c.api.Client.Pods().Get(harness.Context(c.t, waitTimeout), &metav1.GetOptions{Namespace: "default", Name: name})
	if err != nil {
		c.t.Fatalf("get pod %s: %v", name, err)
	}
	return p
}

// waitBound waits until the pod is bound and returns its node.
func (c *cluster) waitBound(name string) string {
	c.t.Helper()
	var node string
	harness.Poll(c.t, waitTimeout, "pod "+name+" is bound", func() (bool, string) {
		p := c.getPod(name)
		node = p.GetSpec().GetNodeName()
		return node != "", fmt.Sprintf("conditions %v", p.GetStatus().GetConditions())
	})
	return node
}

// waitUnschedulable waits until the pod's PodScheduled condition is
// False/Unschedulable, checks the pod is still unbound and Pending, and
// returns the condition's message.
func (c *cluster) waitUnschedulable(name string) string {
	c.t.Helper()
	var msg string
	harness.Poll(c.t, waitTimeout, "pod "+name+" is marked unschedulable", func() (bool, string) {
		p := c.getPod(name)
		for _, cond := range p.GetStatus().GetConditions() {
			if cond.GetType() == "PodScheduled" && cond.GetStatus() == "False" && cond.GetReason() == "Unschedulable" {
				msg = cond.GetMessage()
				return true, ""
			}
		}
		return false, fmt.Sprintf("conditions %v", p.GetStatus().GetConditions())
	})
	if p := c.getPod(name); p.GetSpec().GetNodeName() != "" || p.GetStatus().GetPhase() != "Pending" {
		c.t.Fatalf("pod %s is unschedulable, yet bound to %q in phase %s", name, p.GetSpec().GetNodeName(), p.GetStatus().GetPhase())
	}
	return msg
}

// waitUnschedulableWith waits until the pod is unschedulable with the
// message want. An earlier attempt may have seen fewer nodes than the test
// created (the node and pod watches are separate streams); the nodes'
// arrival retries the pod.
func (c *cluster) waitUnschedulableWith(name, want string) {
	c.t.Helper()
	harness.Poll(c.t, waitTimeout, "pod "+name+" is unschedulable with "+want, func() (bool, string) {
		m := c.waitUnschedulable(name)
		return m == want, m
	})
}

// waitEvent waits for an event about the pod with reason and returns it.
func (c *cluster) waitEvent(pod, reason string) *corev1.Event {
	c.t.Helper()
	return c.waitEventWith(pod, reason, "")
}

// waitEventWith waits for an event about the pod with reason and, unless
// message is empty, that message (an earlier attempt may have had another).
func (c *cluster) waitEventWith(pod, reason, message string) *corev1.Event {
	c.t.Helper()
	var found *corev1.Event
	harness.Poll(c.t, waitTimeout, "a "+reason+" event about pod "+pod, func() (bool, string) {
		list, err := c.api.Client.Events().List(harness.Context(c.t, waitTimeout), &metav1.ListOptions{
			Namespace:     "default",
			FieldSelector: "involvedObject.name=" + pod + ",reason=" + reason,
		})
		if err != nil {
			return false, err.Error()
		}
		for _, ev := range list.GetItems() {
			if message == "" || ev.GetMessage() == message {
				found = ev
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none with message %q", len(list.GetItems()), message)
	})
	return found
}

// counter reads a counter of the scheduler's registry.
func (c *cluster) counter(name string, labels map[string]string) float64 {
	c.t.Helper()
	families, err := c.sched.Registry.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestPodIsBoundToAFittingNode(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "small", cpu: "1"})
	c.addNode(nodeSpec{name: "big", cpu: "4"})
	c.createPod("web", requests("2", "1Gi"))

	if node := c.waitBound("web"); node != "big" {
		t.Fatalf("pod bound to %s, want big: the only node with 2 cpu free", node)
	}
	ev := c.waitEvent("web", "Scheduled")
	if ev.GetType() != "Normal" || ev.GetMessage() != "Successfully assigned default/web to big" ||
		ev.GetSource().GetComponent() != "default-scheduler" || ev.GetReportingComponent() != "default-scheduler" {
		t.Fatalf("Scheduled event = %v", ev)
	}
	var scheduled bool
	for _, cond := range c.getPod("web").GetStatus().GetConditions() {
		scheduled = scheduled || (cond.GetType() == "PodScheduled" && cond.GetStatus() == "True")
	}
	if !scheduled {
		t.Fatal("bound pod has no PodScheduled=True condition")
	}
	if n := c.counter("tugboat_scheduler_schedule_attempts_total", map[string]string{"result": "scheduled"}); n != 1 {
		t.Fatalf("schedule_attempts_total{result=scheduled} = %v, want 1", n)
	}
	bind := "/tugboat.core.v1.PodService/Bind"
	if n := c.counter("tugboat_client_requests_total", map[string]string{"method": bind, "code": "OK"}); n != 1 {
		t.Fatalf("tugboat_client_requests_total{method=Bind,code=OK} = %v, want 1", n)
	}
	if n := c.counter("tugboat_scheduler_grpc_client_handled_total", map[string]string{"grpc_method": "Bind", "grpc_code": "OK"}); n != 1 {
		t.Fatalf("tugboat_scheduler_grpc_client_handled_total{grpc_method=Bind,grpc_code=OK} = %v, want 1", n)
	}
}

func TestNodeSelectorWaitsForALabelledNode(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "node-1"})
	c.createPod("db", nodeSelector("disk", "ssd"))

	want := "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
	c.waitUnschedulableWith("db", want)
	ev := c.waitEventWith("db", "FailedScheduling", want)
	if ev.GetType() != "Warning" || ev.GetMessage() != want || ev.GetSource().GetComponent() != "default-scheduler" ||
		ev.GetInvolvedObject().GetKind() != "Pod" || ev.GetInvolvedObject().GetName() != "db" || ev.GetInvolvedObject().GetUid() == "" {
		t.Fatalf("FailedScheduling event = %v", ev)
	}

	ctx := harness.Context(t, waitTimeout)
	node, err := c.api.Client.Nodes().Get(ctx, &metav1.GetOptions{Name: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	node.Metadata.Labels = map[string]string{"disk": "ssd"}
	if _, err := c.api.Client.Nodes().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	if got := c.waitBound("db"); got != "node-1" {
		t.Fatalf("pod bound to %s, want node-1", got)
	}
}

func TestMoreCPUThanAnyNodeStaysUnschedulable(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "a", cpu: "2"})
	c.addNode(nodeSpec{name: "b", cpu: "2"})
	c.createPod("huge", requests("8", "1Gi"))

	c.waitUnschedulableWith("huge", "0/2 nodes are available: 2 Insufficient cpu.")
	// A node joining that is still too small changes nothing.
	c.addNode(nodeSpec{name: "c", cpu: "4"})
	harness.Poll(t, waitTimeout, "the pod is retried against 3 nodes", func() (bool, string) {
		m := c.waitUnschedulable("huge")
		return m == "0/3 nodes are available: 3 Insufficient cpu.", m
	})
	if n := c.counter("tugboat_scheduler_schedule_attempts_total", map[string]string{"result": "unschedulable"}); n < 2 {
		t.Fatalf("schedule_attempts_total{result=unschedulable} = %v, want at least 2", n)
	}
}

func TestTaintsAndTolerations(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "db-node", taints: []*corev1.Taint{{Key: "dedicated", Value: "db", Effect: "NoSchedule"}}})
	c.createPod("plain")
	c.createPod("tolerant", toleration("dedicated", "db", "NoSchedule"))

	if node := c.waitBound("tolerant"); node != "db-node" {
		t.Fatalf("tolerating pod bound to %s, want db-node", node)
	}
	c.waitUnschedulableWith("plain", "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}.")
}

func TestHostPortConflict(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "only"})
	c.createPod("first", hostPort(8080))
	c.waitBound("first")
	c.createPod("second", hostPort(8080))
	c.createPod("other-port", hostPort(8081))

	if node := c.waitBound("other-port"); node != "only" {
		t.Fatalf("pod on another port bound to %s", node)
	}
	want := "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
	c.waitUnschedulableWith("second", want)
	// Freeing the port lets the second pod in.
	if _, err := c.api.Client.Pods().Delete(harness.Context(t, waitTimeout), &metav1.DeleteOptions{
		Namespace: "default", Name: "first", GracePeriodSeconds: proto.Int32(0),
	}); err != nil {
		t.Fatal(err)
	}
	if node := c.waitBound("second"); node != "only" {
		t.Fatalf("second pod bound to %s after the port was freed", node)
	}
}

func TestPodsOfOneOwnerSpreadAcrossNodes(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	// The big node has by far the most room: least-allocated scoring
	// alone would put every pod there.
	c.addNode(nodeSpec{name: "big", cpu: "64", memory: "256Gi"})
	c.addNode(nodeSpec{name: "small-1"})
	c.addNode(nodeSpec{name: "small-2"})

	nodes := map[string]string{}
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		c.createPod(name, ownedBy("ReplicaSet", "web", "rs-web-uid"))
		nodes[name] = c.waitBound(name)
	}
	distinct := map[string]bool{}
	for _, n := range nodes {
		distinct[n] = true
	}
	if len(distinct) != 3 {
		t.Fatalf("replicas of one ReplicaSet landed on %v, want three different nodes", nodes)
	}

	// Pods without an owner are not spread: they go where there is most room.
	for _, name := range []string{"lone-1", "lone-2"} {
		c.createPod(name)
		if node := c.waitBound(name); node != "big" {
			t.Fatalf("pod %s without an owner bound to %s, want big", name, node)
		}
	}
}

func TestLeaderElectedSchedulerSchedules(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{Configure: func(cfg *app.Config) {
		cfg.LeaderElect = true
		cfg.Identity = "scheduler-a"
	}})
	lease, err := c.api.Client.Leases().Get(harness.Context(t, waitTimeout), &metav1.GetOptions{Namespace: "kube-system", Name: "tug-scheduler"})
	if err != nil {
		t.Fatalf("get the leader lease: %v", err)
	}
	if holder := lease.GetSpec().GetHolderIdentity(); holder != "scheduler-a" {
		t.Fatalf("lease holder = %q, want scheduler-a", holder)
	}
	c.addNode(nodeSpec{name: "n"})
	c.createPod("p")
	c.waitBound("p")
}

func TestPodsOfAnotherSchedulerAreLeftAlone(t *testing.T) {
	c := startCluster(t, harness.SchedulerOptions{})
	c.addNode(nodeSpec{name: "n"})
	c.createPod("theirs", func(p *corev1.Pod) { p.Spec.SchedulerName = "other-scheduler" })
	c.createPod("ours")
	c.waitBound("ours")
	// Pods are queued in creation order: had the scheduler taken
	// "theirs", it would have issued its binding before that of "ours".
	if n := c.getPod("theirs").GetSpec().GetNodeName(); n != "" {
		t.Fatalf("pod of another scheduler bound to %s", n)
	}
	// The attempt is counted once its binding returns, which can be just
	// after the pod shows bound: wait for it, then it must be exactly one.
	harness.Poll(t, waitTimeout, "the scheduled attempt is counted", func() (bool, string) {
		n := c.counter("tugboat_scheduler_schedule_attempts_total", map[string]string{"result": "scheduled"})
		return n >= 1, fmt.Sprintf("schedule_attempts_total{result=scheduled} = %v", n)
	})
	if n := c.counter("tugboat_scheduler_schedule_attempts_total", map[string]string{"result": "scheduled"}); n != 1 {
		t.Fatalf("schedule_attempts_total{result=scheduled} = %v, want 1", n)
	}
}
