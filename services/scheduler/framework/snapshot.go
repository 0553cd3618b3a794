package framework

// Snapshot is the immutable view of the cluster one scheduling cycle
// works on: the nodes, each with its pods. Neither the list nor the
// NodeInfos in it change after it is made.
type Snapshot struct {
	nodes      []*NodeInfo
	index      map[string]int
	generation int64
}

// NewSnapshot returns a snapshot of nodes, which must all have a Node.
func NewSnapshot(nodes ...*NodeInfo) *Snapshot {
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n.Name()] = i
	}
	return &Snapshot{nodes: nodes, index: index}
}

// SnapshotOf returns a snapshot of nodes where index[name] is the position
// of each node in nodes, at a cache generation. The snapshot takes both:
// neither may change afterwards, though other snapshots may share them.
func SnapshotOf(nodes []*NodeInfo, index map[string]int, generation int64) *Snapshot {
	return &Snapshot{nodes: nodes, index: index, generation: generation}
}

// Nodes returns the nodes, in a stable order. The slice must not be changed.
func (s *Snapshot) Nodes() []*NodeInfo { return s.nodes }

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.nodes) }

// Get returns the node named name, or nil.
func (s *Snapshot) Get(name string) *NodeInfo {
	i, ok := s.index[name]
	if !ok {
		return nil
	}
	return s.nodes[i]
}

// Generation is the cache generation the snapshot reflects (0 for one
// made by NewSnapshot).
func (s *Snapshot) Generation() int64 { return s.generation }
