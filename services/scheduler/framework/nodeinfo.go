package framework

import (
	"slices"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

// NodeInfo is a node with the pods placed on it and their sums: requested
// resources and host ports in use. Once a NodeInfo is part of a Snapshot
// it is read-only; its owner changes a Clone instead.
type NodeInfo struct {
	// Node is nil while the node is known only from pods bound to it.
	Node *corev1.Node
	// Pods are the pods on the node, bound or assumed.
	Pods []*PodInfo
	// Requested sums the Requests of Pods.
	Requested Resource
	// NonZeroRequested sums the NonZeroRequests of Pods, for scoring.
	NonZeroRequested Resource
	// Allocatable is what the node offers pods (status.allocatable).
	Allocatable Resource
	// UsedPorts are the host ports Pods bind.
	UsedPorts HostPortSet
	// Generation is bumped by the cache on every change, so a snapshot
	// can tell which nodes changed since it was taken.
	Generation int64
}

// NewNodeInfo returns the NodeInfo of node with pods on it.
func NewNodeInfo(node *corev1.Node, pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{UsedPorts: HostPortSet{}}
	n.SetNode(node)
	for _, p := range pods {
		n.AddPod(p)
	}
	return n
}

// Name returns the node's name; empty while Node is nil.
func (n *NodeInfo) Name() string { return n.Node.GetMetadata().GetName() }

// SetNode replaces the node object and its allocatable resources.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.Node = node
	n.Allocatable = ParseResourceList(node.GetStatus().GetAllocatable())
}

// AddPod places p on the node.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	n.Requested.Add(p.Requests)
	n.NonZeroRequested.Add(p.NonZeroRequests)
	if n.UsedPorts == nil {
		n.UsedPorts = HostPortSet{}
	}
	for _, hp := range p.HostPorts {
		n.UsedPorts.Add(hp)
	}
}

// RemovePod takes the pod with key ("namespace/name") off the node and
// reports whether it was there.
func (n *NodeInfo) RemovePod(key string) bool {
	i := slices.IndexFunc(n.Pods, func(p *PodInfo) bool { return p.Key == key })
	if i < 0 {
		return false
	}
	p := n.Pods[i]
	n.Pods = slices.Delete(n.Pods, i, i+1)
	n.Requested.Sub(p.Requests)
	n.NonZeroRequested.Sub(p.NonZeroRequests)
	for _, hp := range p.HostPorts {
		n.UsedPorts.Remove(hp)
	}
	return true
}

// Clone returns a copy that can be changed without affecting n. The
// PodInfos themselves are shared: they are never changed.
func (n *NodeInfo) Clone() *NodeInfo {
	return &NodeInfo{
		Node:             n.Node,
		Pods:             slices.Clone(n.Pods),
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested.Clone(),
		Allocatable:      n.Allocatable.Clone(),
		UsedPorts:        n.UsedPorts.Clone(),
		Generation:       n.Generation,
	}
}
