package gc

import (
	"sync"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// graph indexes the objects the collector watches by uid and by owner
// uid, so that an owner's dependents are found without a scan.
type graph struct {
	mu         sync.Mutex
	keys       map[string]string              // uid -> queue key
	owners     map[string][]string            // queue key -> owner uids
	dependents map[string]map[string]struct{} // owner uid -> dependent queue keys
}

func newGraph() *graph {
	return &graph{keys: map[string]string{}, owners: map[string][]string{}, dependents: map[string]map[string]struct{}{}}
}

// set records the object key with metadata m.
func (g *graph) set(key string, m *metav1.ObjectMeta) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unlink(key)
	g.keys[m.GetUid()] = key
	var uids []string
	for _, r := range m.GetOwnerReferences() {
		uids = append(uids, r.GetUid())
		deps := g.dependents[r.GetUid()]
		if deps == nil {
			deps = map[string]struct{}{}
			g.dependents[r.GetUid()] = deps
		}
		deps[key] = struct{}{}
	}
	g.owners[key] = uids
}

// remove forgets the object key with metadata m.
func (g *graph) remove(key string, m *metav1.ObjectMeta) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unlink(key)
	if g.keys[m.GetUid()] == key {
		delete(g.keys, m.GetUid())
	}
}

func (g *graph) unlink(key string) {
	for _, uid := range g.owners[key] {
		if deps := g.dependents[uid]; deps != nil {
			delete(deps, key)
			if len(deps) == 0 {
				delete(g.dependents, uid)
			}
		}
	}
	delete(g.owners, key)
}

// dependentsOf returns the keys of the objects that name uid as an owner.
func (g *graph) dependentsOf(uid string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for k := range g.dependents[uid] {
		out = append(out, k)
	}
	return out
}

// keyOf returns the queue key of the object with uid.
func (g *graph) keyOf(uid string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.keys[uid]
	return k, ok
}
