package core

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FitError says why no node fits a pod. Its message is Kubernetes' own:
// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match
// Pod's node affinity/selector."
type FitError struct {
	// Pod is "namespace/name".
	Pod string
	// NumAllNodes is the number of nodes in the snapshot.
	NumAllNodes int
	// Reasons counts the nodes rejected for each reason; a node rejected
	// for two reasons (cpu and memory) counts under both.
	Reasons map[string]int
	// Plugins are the names of the plugins that rejected nodes, sorted.
	Plugins []string
}

// Error implements error.
func (e *FitError) Error() string {
	if e.NumAllNodes == 0 {
		return "no nodes available to schedule pods"
	}
	parts := make([]string, 0, len(e.Reasons))
	for r, n := range e.Reasons {
		parts = append(parts, strconv.Itoa(n)+" "+r)
	}
	slices.Sort(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", e.NumAllNodes, strings.Join(parts, ", "))
}
