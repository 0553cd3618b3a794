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
// working from a stale cache does not create or delete twice.
type Expectations struct {
	mu    sync.Mutex
	items map[string]*expectation
}

type expectation struct {
	add, del int
	at       time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations { return &Expectations{items: map[string]*expectation{}} }

// Expect records that adds creates and dels deletes are on their way for key.
func (e *Expectations) Expect(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.items[key] = &expectation{add: adds, del: dels, at: time.Now()}
}

// Observed lowers key's pending creates (add) or deletes (!add) by one:
// the cache has seen it, or the request failed.
func (e *Expectations) Observed(key string, add bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.items[key]
	if x == nil {
		return
	}
	if add {
		x.add--
	} else {
		x.del--
	}
}

// Satisfied reports whether key has nothing pending (or its expectations
// expired), so that a sync may trust the cache.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.items[key]
	return x == nil || (x.add <= 0 && x.del <= 0) || time.Since(x.at) > expectationTTL
}

// Forget drops key's expectations (its owner is gone).
func (e *Expectations) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.items, key)
}
