package app

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/cache"
	"github.com/tugboat-sh/tugboat/services/scheduler/core"
	"github.com/tugboat-sh/tugboat/services/scheduler/queue"
	"go.uber.org/zap"
)

// activePods leaves out finished pods: they hold no resources. A pod that
// finishes leaves the selection and is reported deleted.
const activePods = "status.phase!=Succeeded,status.phase!=Failed"

// scheduler ties the informers, cache, queue and algorithm together.
type scheduler struct {
	cfg     Config
	cs      *clientset.Set
	log     *zap.Logger
	cache   *cache.Cache
	queue   *queue.Queue
	algo    *core.Scheduler
	events  *record.Recorder
	metrics *metrics
	pods    *informer.Informer[*corev1.Pod]
	nodes   *informer.Informer[*corev1.Node]

	// inflight counts the bindings and failure reports still running.
	inflight sync.WaitGroup
}

func newScheduler(cfg Config, cs *clientset.Set, reg prometheus.Registerer, identity string, log *zap.Logger) (*scheduler, error) {
	filters, scores, err := defaultProfile.build(registry)
	if err != nil {
		return nil, err
	}
	q := queue.New(cfg.Queue)
	m, err := newMetrics(reg, q)
	if err != nil {
		return nil, err
	}
	s := &scheduler{
		cfg:   cfg,
		cs:    cs,
		log:   log,
		cache: cache.New(),
		queue: q,
		algo: core.New(core.Options{
			Filters: filters, Scores: scores,
			Parallelism: cfg.Parallelism, PercentageOfNodesToScore: int32(cfg.PercentageOfNodesToScore),
		}),
		events:  record.New(cs.Events(), cfg.SchedulerName, identity, log.Named("events")),
		metrics: m,
		pods:    informer.New(cs.Pods(), informer.Options{FieldSelector: activePods, Logger: log.Named("pods")}),
		nodes:   informer.New(cs.Nodes(), informer.Options{Logger: log.Named("nodes")}),
	}
	s.pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{AddFunc: s.onPodAdd, UpdateFunc: s.onPodUpdate, DeleteFunc: s.onPodDelete})
	s.nodes.AddHandler(informer.HandlerFuncs[*corev1.Node]{AddFunc: s.onNodeAdd, UpdateFunc: s.onNodeUpdate, DeleteFunc: s.onNodeDelete})
	return s, nil
}

// watch runs the informers, the queue's timers and the event writers
// until ctx ends. It runs whether or not this replica leads, so that a
// new leader starts with a warm cache.
func (s *scheduler) watch(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.pods.Run(ctx) })
	wg.Go(func() { s.nodes.Run(ctx) })
	wg.Go(func() { s.queue.Run(ctx) })
	wg.Go(func() { s.events.Run(ctx) })
	wg.Wait()
}

// synced is the readiness check: both informers have listed.
func (s *scheduler) synced(context.Context) error {
	if !s.pods.HasSynced() || !s.nodes.HasSynced() {
		return errors.New("informers not synced")
	}
	return nil
}

// run waits for the informers, then schedules pods one at a time until
// ctx ends, and waits for the bindings it started.
func (s *scheduler) run(ctx context.Context) {
	defer s.inflight.Wait()
	if !s.pods.WaitForSync(ctx) || !s.nodes.WaitForSync(ctx) {
		return
	}
	s.log.Info("scheduler started", zap.String("schedulerName", s.cfg.SchedulerName))
	if s.cfg.OnReady != nil {
		s.cfg.OnReady()
	}
	for ctx.Err() == nil {
		s.scheduleOne(ctx)
	}
}
