package pods

import (
	"strings"
	"sync"
	"time"
)

// backoff paces retries of one failing container (or pulls of one image):
// the first retry is at once, the next after initial, doubling up to max;
// a container that ran for reset before it exited starts over.
type backoff struct {
	initial, max, reset time.Duration

	mu      sync.Mutex
	entries map[string]backoffEntry
}

// backoffEntry is the delay before the next retry of a key, counted from
// its last failure.
type backoffEntry struct {
	delay time.Duration
	last  time.Time
}

func newBackoff(initial, max, reset time.Duration) *backoff {
	return &backoff{initial: initial, max: max, reset: reset, entries: map[string]backoffEntry{}}
}

// wait returns how long to wait before retrying key, whose last attempt
// failed at failedAt (zero: when retried last recorded) after running for
// ran; zero means retry now.
func (b *backoff) wait(key string, failedAt time.Time, ran time.Duration, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ran >= b.reset {
		delete(b.entries, key)
	}
	e, ok := b.entries[key]
	if !ok {
		return 0
	}
	if failedAt.IsZero() {
		failedAt = e.last
	}
	if left := failedAt.Add(e.delay).Sub(now); left > 0 {
		return left
	}
	return 0
}

// retried records a retry (or a failure) of key at at: the next one waits
// twice as long.
func (b *backoff) retried(key string, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok {
		e.delay = b.initial
	} else {
		e.delay = min(e.delay*2, b.max)
	}
	e.last = at
	b.entries[key] = e
}

// delay is key's current back-off, for messages.
func (b *backoff) delay(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries[key].delay
}

// forget drops every entry whose key starts with prefix (a pod's UID).
func (b *backoff) forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if strings.HasPrefix(k, prefix) {
			delete(b.entries, k)
		}
	}
}
