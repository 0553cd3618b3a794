package cache

import (
	"maps"

	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
)

// change applies fn to the NodeInfo of node name, creating it if needed,
// on a copy when a snapshot may hold it, bumps the generation and keeps
// list and index in step. c.mu is held.
func (c *Cache) change(name string, fn func(*framework.NodeInfo)) {
	ni, ok := c.nodes[name]
	switch {
	case !ok:
		ni = &framework.NodeInfo{UsedPorts: framework.HostPortSet{}}
	case ni.Generation <= c.snap.Generation():
		ni = ni.Clone()
	}
	fn(ni)
	c.generation++
	ni.Generation = c.generation
	c.nodes[name] = ni

	i, listed := c.index[name]
	switch {
	case ni.Node != nil && listed:
		c.list[i] = ni
	case ni.Node != nil:
		c.ownIndex()
		c.index[name] = len(c.list)
		c.list = append(c.list, ni)
	case listed:
		c.unlist(name, i)
	}
	if ni.Node == nil && len(ni.Pods) == 0 {
		delete(c.nodes, name)
	}
}

// unlist removes the node at position i of list, moving the last node
// into its place. c.mu is held.
func (c *Cache) unlist(name string, i int) {
	c.ownIndex()
	last := len(c.list) - 1
	if i != last {
		moved := c.list[last]
		c.list[i] = moved
		c.index[moved.Name()] = i
	}
	c.list[last] = nil
	c.list = c.list[:last]
	delete(c.index, name)
}

// ownIndex copies index if the last snapshot shares it. c.mu is held.
func (c *Cache) ownIndex() {
	if c.indexShared {
		c.index = maps.Clone(c.index)
		c.indexShared = false
	}
}
