package deployment

import (
	"strconv"
	"sync"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
)

// writes remembers the resourceVersion of every ReplicaSet this
// controller last wrote, so that a sync does not act on a cache that has
// not caught up with its own writes (it would scale twice).
type writes struct {
	mu  sync.Mutex
	rvs map[string]int64
}

func (c *Controller) written(rs *appsv1.ReplicaSet) {
	rv, err := strconv.ParseInt(rs.GetMetadata().GetResourceVersion(), 10, 64)
	if err != nil {
		return
	}
	c.writes.mu.Lock()
	defer c.writes.mu.Unlock()
	if c.writes.rvs == nil {
		c.writes.rvs = map[string]int64{}
	}
	c.writes.rvs[rs.GetMetadata().GetUid()] = rv
}

// stale reports whether a cached ReplicaSet is older than this
// controller's last write of it; its update event will requeue the
// Deployment.
func (c *Controller) stale(rss []*appsv1.ReplicaSet) bool {
	c.writes.mu.Lock()
	defer c.writes.mu.Unlock()
	for _, rs := range rss {
		want, ok := c.writes.rvs[rs.GetMetadata().GetUid()]
		if !ok {
			continue
		}
		rv, _ := strconv.ParseInt(rs.GetMetadata().GetResourceVersion(), 10, 64)
		if rv < want {
			return true
		}
		delete(c.writes.rvs, rs.GetMetadata().GetUid())
	}
	return false
}
