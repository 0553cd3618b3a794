// Package nodeports keeps a pod off nodes where a host port it binds is
// already bound by another pod, for the same protocol and host IP (or the
// wildcard IP on either side).
package nodeports

import "github.com/tugboat-sh/tugboat/services/scheduler/framework"

// Name is the plugin's name.
const Name = "NodePorts"

// Reason is counted in an unschedulable pod's message.
const Reason = "node(s) didn't have free ports for the requested pod ports"

var conflict = framework.NewStatus(framework.Unschedulable, Reason)

// NodePorts is a filter plugin.
type NodePorts struct{}

var _ framework.FilterPlugin = (*NodePorts)(nil)

// New returns the plugin.
func New() *NodePorts { return &NodePorts{} }

// Name implements framework.Plugin.
func (*NodePorts) Name() string { return Name }

// Filter rejects a node where one of the pod's host ports is in use.
func (*NodePorts) Filter(_ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for _, hp := range pod.HostPorts {
		if node.UsedPorts.Conflicts(hp) {
			return conflict
		}
	}
	return nil
}
