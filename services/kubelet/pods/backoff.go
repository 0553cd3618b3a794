package pods

import (
	"sync"
	"time"
)

// backoff paces restarts of one failing container (or pulls of one image):
// the first retry is at once, the next after initial, doubling up to max;
// a container that ran for reset before it exited starts over.
type backoff struct {
	initial, max, reset time.Duration

	mu      sync.Mutex
	entries map[string]time.Duration // key -> delay before the next retry
}

func newBackoff(initial, max, reset time.Duration) *backoff {
	return &backoff{initial: initial, max: max, reset: reset, entries: map[string]time.Duration{}}
}

// wait returns how long to wait before retrying key, whose last attempt
// failed at failedAt after running for ran; zero means retry now.
func (b *backoff) wait(key string, failedAt time.Time, ran time.Duration, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ran >= b.reset {
		delete(b.entries, key)
	}
	d, ok := b.entries[key]
	if !ok {
		return 0
	}
	if left := failedAt.Add(d).Sub(now); left > 0 {
		return left
	}
	return 0
}

// retried records a retry of key: the next one waits twice as long.
func (b *backoff) retried(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.entries[key]
	switch {
	case !ok:
		d = b.initial
	default:
		d = min(d*2, b.max)
	}
	b.entries[key] = d
}

// forget drops every entry whose key starts with prefix (a pod's UID).
func (b *backoff) forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}
