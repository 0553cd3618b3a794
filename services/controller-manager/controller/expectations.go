package controller

import (
	"sync"
	"time"
)

// expectationTTL is how long expectations hold before a sync stops
// trusting them (a watch event lost for good).
const expectationTTL = 5 * time.Minute

// Expectations count the creates and deletes a controller has asked for
// and not yet seen in its informer cache, per owner key, so that a sync
// working from a stale cache does not create or delete twice. Deletes are
// tracked by pod uid: a graceful delete is seen twice (marked, then gone)
// and must count once.
type Expectations struct {
	mu    sync.Mutex
	items map[string]*expectation
}

type expectation struct {
	add  int
	dels map[string]struct{}
	at   time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations { return &Expectations{items: map[string]*expectation{}} }

// Expect records that adds creates and the deletes of the pods with the
// uids dels are on their way for key.
func (e *Expectations) Expect(key string, adds int, dels []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{add: adds, dels: map[string]struct{}{}, at: time.Now()}
	for _, uid := range dels {
		x.dels[uid] = struct{}{}
	}
	e.items[key] = x
}

// CreationObserved lowers key's pending creates by one: the cache has seen
// one, or a create failed.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.items[key]; x != nil {
		x.add--
	}
}

// DeletionObserved settles the expected delete of the pod uid: the cache
// has seen it marked or gone, or the delete failed.
func (e *Expectations) DeletionObserved(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.items[key]; x != nil {
		delete(x.dels, uid)
	}
}

// Satisfied reports whether key has nothing pending (or its expectations
// expired), so that a sync may trust the cache.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.items[key]
	return x == nil || (x.add <= 0 && len(x.dels) == 0) || time.Since(x.at) > expectationTTL
}

// Forget drops key's expectations (its owner is gone).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
