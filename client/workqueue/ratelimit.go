package workqueue

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter decides how long a key waits before it is retried.
type RateLimiter[K comparable] interface {
	// When returns the delay before key's next retry and counts the retry.
	When(key K) time.Duration
	// Forget resets key's retries.
	Forget(key K)
	// NumRequeues returns key's retries since Forget.
	NumRequeues(key K) int
}

// DefaultRateLimiter is client-go's default controller limiter: per-key
// exponential backoff from 5ms to 1000s, and an overall token bucket of
// 10 qps with a burst of 100; the longer delay wins.
func DefaultRateLimiter[K comparable]() RateLimiter[K] {
	return MaxOf(
		NewExponentialRateLimiter[K](5*time.Millisecond, 1000*time.Second),
		NewBucketRateLimiter[K](10, 100),
	)
}

// ExponentialRateLimiter delays a key base*2^retries, capped at max.
type ExponentialRateLimiter[K comparable] struct {
	base, max time.Duration

	mu       sync.Mutex
	failures map[K]int
}

// NewExponentialRateLimiter returns a per-key exponential backoff.
func NewExponentialRateLimiter[K comparable](base, max time.Duration) *ExponentialRateLimiter[K] {
	return &ExponentialRateLimiter[K]{base: base, max: max, failures: map[K]int{}}
}

// When implements RateLimiter.
func (r *ExponentialRateLimiter[K]) When(key K) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.failures[key]
	r.failures[key] = n + 1
	d := float64(r.base) * math.Pow(2, float64(n))
	if d > float64(r.max) {
		return r.max
	}
	return time.Duration(d)
}

// Forget implements RateLimiter.
func (r *ExponentialRateLimiter[K]) Forget(key K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.failures, key)
}

// NumRequeues implements RateLimiter.
func (r *ExponentialRateLimiter[K]) NumRequeues(key K) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures[key]
}

// BucketRateLimiter delays retries so that all keys together stay under
// qps once the burst is spent. It keeps no per-key state.
type BucketRateLimiter[K comparable] struct {
	limiter *rate.Limiter
}

// NewBucketRateLimiter returns an overall token bucket limiter.
func NewBucketRateLimiter[K comparable](qps float64, burst int) *BucketRateLimiter[K] {
	return &BucketRateLimiter[K]{limiter: rate.NewLimiter(rate.Limit(qps), burst)}
}

// When implements RateLimiter.
func (r *BucketRateLimiter[K]) When(K) time.Duration { return r.limiter.Reserve().Delay() }

// Forget implements RateLimiter.
func (r *BucketRateLimiter[K]) Forget(K) {}

// NumRequeues implements RateLimiter.
func (r *BucketRateLimiter[K]) NumRequeues(K) int { return 0 }

// maxOf combines limiters: the longest delay and the most requeues win.
type maxOf[K comparable] []RateLimiter[K]

// MaxOf returns a limiter whose delay is the longest of limiters'.
func MaxOf[K comparable](limiters ...RateLimiter[K]) RateLimiter[K] { return maxOf[K](limiters) }

func (m maxOf[K]) When(key K) time.Duration {
	var d time.Duration
	for _, l := range m {
		d = max(d, l.When(key))
	}
	return d
}

func (m maxOf[K]) Forget(key K) {
	for _, l := range m {
		l.Forget(key)
	}
}

func (m maxOf[K]) NumRequeues(key K) int {
	n := 0
	for _, l := range m {
		n = max(n, l.NumRequeues(key))
	}
	return n
}
