// Package cache is the scheduler's view of the cluster, kept from the
// node and pod informers: one framework.NodeInfo per node with the pods
// bound to it, plus pods "assumed" onto a node by the scheduler before
// their binding is confirmed, so that the next pod already sees them.
//
// Snapshots are cheap: every change bumps a generation counter, a
// NodeInfo that a snapshot may hold is copied before it is changed
// (copy-on-write), and a snapshot is a fresh slice of pointers to the
// current NodeInfos, or the previous snapshot when nothing changed.
package cache

import (
	"fmt"
	"slices"
	"sync"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// podState is where the cache placed a pod.
type podState struct {
	info    *framework.PodInfo
	node    string
	assumed bool
}

// Cache holds NodeInfos by node name. It is safe for concurrent use.
type Cache struct {
	mu sync.Mutex
	// nodes holds every node with a Node object or with pods; a node
	// known only from its pods has a nil Node and is in no snapshot.
	nodes map[string]*framework.NodeInfo
	// list holds the nodes with a Node object; index[name] is the
	// position of each in list.
	list  []*framework.NodeInfo
	index map[string]int
	// indexShared says the last snapshot holds index, which must then be
	// copied before it changes.
	indexShared bool
	pods        map[string]*podState
	generation  int64
	// snap is the last snapshot; NodeInfos with a Generation above its
	// generation are in no snapshot and may be changed in place.
	snap *framework.Snapshot
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{
		nodes: map[string]*framework.NodeInfo{},
		index: map[string]int{},
		pods:  map[string]*podState{},
		snap:  framework.SnapshotOf(nil, map[string]int{}, 0),
	}
}

// Key returns the "namespace/name" a pod is known by.
func Key(pod *corev1.Pod) string {
	return pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
}

// Snapshot returns the current view. Snapshots are immutable: later
// changes to the cache do not show in one already returned.
func (c *Cache) Snapshot() *framework.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap.Generation() == c.generation {
		return c.snap
	}
	c.indexShared = true
	c.snap = framework.SnapshotOf(slices.Clone(c.list), c.index, c.generation)
	return c.snap
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.change(node.GetMetadata().GetName(), func(ni *framework.NodeInfo) { ni.SetNode(node) })
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(node *corev1.Node) { c.AddNode(node) }

// RemoveNode removes a node. Pods still bound to it stay counted until
// they are removed, but the node is in no later snapshot.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.nodes[name]; !ok {
		return
	}
	c.change(name, func(ni *framework.NodeInfo) { ni.Node, ni.Allocatable = nil, framework.Resource{} })
}

// AssumePod places pod on pod.spec.nodeName before its binding is
// confirmed, so that the next scheduling cycle counts it. ForgetPod undoes
// it when the binding fails; AddPod confirms it.
func (c *Cache) AssumePod(pod *corev1.Pod) error {
	node := pod.GetSpec().GetNodeName()
	if node == "" {
		return fmt.Errorf("cache: assume pod %s: no node name", Key(pod))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := Key(pod)
	if _, ok := c.pods[key]; ok {
		return fmt.Errorf("cache: assume pod %s: already in the cache", key)
	}
	c.add(key, pod, true)
	return nil
}

// ForgetPod removes an assumed pod whose binding failed.
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := Key(pod)
	ps, ok := c.pods[key]
	if !ok || !ps.assumed {
		return fmt.Errorf("cache: forget pod %s: not assumed", key)
	}
	c.remove(key)
	return nil
}

// IsAssumed reports whether the pod with key is assumed and not yet
// confirmed by AddPod.
func (c *Cache) IsAssumed(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[key]
	return ok && ps.assumed
}

// AddPod records a pod bound to a node, as the informer reports it. It
// confirms the pod if it was assumed, moving it if the binding went to
// another node than assumed.
func (c *Cache) AddPod(pod *corev1.Pod) {
	if pod.GetSpec().GetNodeName() == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := Key(pod)
	c.remove(key)
	c.add(key, pod, false)
}

// UpdatePod replaces a bound pod.
func (c *Cache) UpdatePod(pod *corev1.Pod) { c.AddPod(pod) }

// RemovePod removes a pod, assumed or bound.
func (c *Cache) RemovePod(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(Key(pod))
}

// Counts returns the number of nodes with a Node object, of pods, and of
// the pods that are assumed.
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ps := range c.pods {
		if ps.assumed {
			assumed++
		}
	}
	return len(c.list), len(c.pods), assumed
}

// add places a pod on its node; c.mu is held.
func (c *Cache) add(key string, pod *corev1.Pod, assumed bool) {
	pi := framework.NewPodInfo(pod)
	node := pod.GetSpec().GetNodeName()
	c.change(node, func(ni *framework.NodeInfo) { ni.AddPod(pi) })
	c.pods[key] = &podState{info: pi, node: node, assumed: assumed}
}

// remove takes a pod off its node, if the cache has it; c.mu is held.
func (c *Cache) remove(key string) {
	ps, ok := c.pods[key]
	if !ok {
		return
	}
	delete(c.pods, key)
	c.change(ps.node, func(ni *framework.NodeInfo) { ni.RemovePod(key) })
}
