// Package controller is what every control loop shares: a rate-limited
// workqueue of keys drained by workers that call the loop's sync, the sync
// duration metric, expectations of the loop's own pending writes, owner
// references and pod state helpers. Each controller lives in its own
// package and is one Loop plus its sync function.
package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/client/workqueue"
	"go.uber.org/zap"
)

// SyncFunc brings the object named by key ("namespace/name", or "name"
// for cluster-scoped kinds) to its desired state. It must be idempotent:
// an error retries the key with back-off.
type SyncFunc func(ctx context.Context, key string) error

// Metrics holds the metrics every loop reports into.
type Metrics struct {
	reg          prometheus.Registerer
	syncDuration *prometheus.HistogramVec
}

// NewMetrics registers the controller-manager's sync metrics on reg; the
// workqueues of the loops register theirs there too.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reg: reg,
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tugboat_controller_manager_sync_duration_seconds",
			Help:    "Duration of one sync of one key, by controller and result (success or error).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"controller", "result"}),
	}
	if err := reg.Register(m.syncDuration); err != nil {
		return nil, fmt.Errorf("controller metrics: %w", err)
	}
	return m, nil
}

// Loop is one controller's queue and workers.
type Loop struct {
	name  string
	queue *workqueue.Queue[string]
	sync  SyncFunc
	m     *Metrics
	log   *zap.Logger
}

// NewLoop returns the loop of the controller called name. Its queue's
// metrics (depth, adds, retries, work duration) carry name as their label.
func NewLoop(name string, sync SyncFunc, m *Metrics, log *zap.Logger) (*Loop, error) {
	q, err := workqueue.New(workqueue.Config[string]{Name: name, Registerer: m.reg})
	if err != nil {
		return nil, fmt.Errorf("controller %s: %w", name, err)
	}
	return &Loop{name: name, queue: q, sync: sync, m: m, log: log}, nil
}

// Name is the controller's name.
func (l *Loop) Name() string { return l.name }

// Enqueue queues key for a sync.
func (l *Loop) Enqueue(key string) { l.queue.Add(key) }

// EnqueueAfter queues key for a sync once d has passed.
func (l *Loop) EnqueueAfter(key string, d time.Duration) { l.queue.AddAfter(key, d) }

// Len is the number of keys waiting.
func (l *Loop) Len() int { return l.queue.Len() }

// Run runs workers goroutines syncing keys until ctx ends, then drains
// the keys in progress.
func (l *Loop) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for l.next(ctx) {
			}
		})
	}
	<-ctx.Done()
	l.queue.ShutDown()
	wg.Wait()
}

// next syncs one key; false once the queue is shut down.
func (l *Loop) next(ctx context.Context) bool {
	key, shutdown := l.queue.Get()
	if shutdown {
		return false
	}
	defer l.queue.Done(key)
	start := time.Now()
	err := l.sync(ctx, key)
	result := "success"
	if err != nil {
		result = "error"
	}
	l.m.syncDuration.WithLabelValues(l.name, result).Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		l.queue.Forget(key)
	case ctx.Err() != nil:
	default:
		l.log.Info("sync failed, retrying", zap.String("controller", l.name), zap.String("key", key),
			zap.Int("retries", l.queue.NumRequeues(key)), zap.Error(err))
		l.queue.AddRateLimited(key)
	}
	return true
}
