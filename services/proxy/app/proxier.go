package app

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/proxy/rules"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/labels"
)

// fullSyncPeriod is how often the table is rebuilt whole even without a
// failure, repairing what others may have changed in it (as kube-proxy).
const fullSyncPeriod = time.Hour

// table is what the proxier programs: *nft.Table, or a recorder in tests.
type table interface {
	Replace(layout rules.Layout, ops rules.Ops) error
	Apply(ops rules.Ops) error
}

// lister reads an informer's cache (informer.Lister), or a map in tests.
type lister[T any] interface {
	Get(namespace, name string) (T, bool)
	List(sel labels.Selector) []T
}

// proxier keeps the table in line with the informers' Services and
// Endpoints. Handlers mark Services dirty; sync, called by the runner
// only, programs them.
type proxier struct {
	cfg       rules.Config
	layout    rules.Layout
	baseRules int
	table     table
	services  lister[*corev1.Service]
	endpoints lister[*corev1.Endpoints]
	m         *metrics
	log       *zap.Logger
	onReady   func()
	trigger   func()

	mu    sync.Mutex
	dirty map[string]bool

	// Owned by sync.
	applied  map[string]*rules.Fragment
	shared   *rules.Shared
	full     bool
	lastFull time.Time
	ready    atomic.Bool
}

func newProxier(cfg rules.Config, t table, m *metrics, log *zap.Logger) *proxier {
	p := &proxier{cfg: cfg, layout: rules.Base(cfg), table: t, m: m, log: log,
		dirty: map[string]bool{}, applied: map[string]*rules.Fragment{}, full: true}
	for _, c := range p.layout.Chains {
		p.baseRules += len(c.Rules)
	}
	for _, c := range p.layout.BaseChains {
		p.baseRules += len(c.Rules)
	}
	return p
}

// mark records that the Service namespace/name (or its Endpoints) changed.
func (p *proxier) mark(m informer.Object) {
	key := informer.Key(m.GetMetadata())
	p.mu.Lock()
	p.dirty[key] = true
	p.mu.Unlock()
	if p.trigger != nil {
		p.trigger()
	}
}

// sync programs the dirty Services, or everything when a full sync is due
// (the first one, after a failure, since the kernel's state is then
// unknown, and once an hour).
func (p *proxier) sync() error {
	start := time.Now()
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[string]bool{}
	p.mu.Unlock()

	full := p.full || time.Since(p.lastFull) > fullSyncPeriod
	var err error
	if full {
		err = p.syncAll()
	} else {
		err = p.syncDirty(dirty)
	}
	p.m.syncDuration.Observe(time.Since(start).Seconds())
	if err != nil {
		p.m.syncs.WithLabelValues("error").Inc()
		p.full = true
		p.log.Error("proxy sync failed", zap.Bool("full", full), zap.Error(err))
		return err
	}
	p.full = false
	if full {
		p.lastFull = time.Now()
	}
	p.m.syncs.WithLabelValues("success").Inc()
	p.m.lastSync.Set(float64(time.Now().UnixNano()) / 1e9)
	n := p.baseRules
	for _, f := range p.applied {
		n += f.RuleCount()
	}
	p.m.rules.Set(float64(n))
	if full {
		p.log.Info("proxy full sync done", zap.Int("services", len(p.applied)), zap.Int("rules", n),
			zap.Duration("took", time.Since(start)))
	}
	if full && p.ready.CompareAndSwap(false, true) && p.onReady != nil {
		p.onReady()
	}
	return nil
}

// syncAll replaces the table with the base layout and every Service.
func (p *proxier) syncAll() error {
	want := map[string]*rules.Fragment{}
	var ops rules.Ops
	for _, svc := range p.services.List(labels.Everything()) {
		key := informer.Key(svc.GetMetadata())
		if f := p.fragment(key); f != nil {
			want[key] = f
			ops.Append(rules.Diff(nil, f))
		}
	}
	p.shared = rules.NewShared()
	p.shared.Filter(&ops)
	if err := p.table.Replace(p.layout, ops); err != nil {
		return err
	}
	p.applied = want
	return nil
}

// syncDirty applies only the changes of the dirty Services, in one batch.
func (p *proxier) syncDirty(dirty map[string]bool) error {
	want := make(map[string]*rules.Fragment, len(dirty))
	var ops rules.Ops
	for key := range dirty {
		f := p.fragment(key)
		want[key] = f
		ops.Append(rules.Diff(p.applied[key], f))
	}
	// A failure leaves the counts ahead of the kernel; the full sync that
	// follows a failure starts them again.
	p.shared.Filter(&ops)
	if err := p.table.Apply(ops); err != nil {
		return err
	}
	for key, f := range want {
		if f == nil {
			delete(p.applied, key)
		} else {
			p.applied[key] = f
		}
	}
	return nil
}

// fragment builds the Service key's chains and elements from the caches;
// nil when there is no such Service, nothing to program for it, or it
// cannot be programmed (counted in tugboat_proxy_services_skipped_total).
func (p *proxier) fragment(key string) *rules.Fragment {
	ns, name := informer.SplitKey(key)
	svc, ok := p.services.Get(ns, name)
	if !ok {
		return nil
	}
	ep, _ := p.endpoints.Get(ns, name)
	ports, err := rules.FromAPI(svc, ep)
	if err != nil {
		p.m.skipped.WithLabelValues(skipInvalid).Inc()
		p.log.Warn("service skipped", zap.String("service", key), zap.Error(err))
		return nil
	}
	if len(ports) == 0 {
		return nil
	}
	f := &rules.Fragment{}
	for i := range ports {
		pf := rules.Service(p.cfg, &ports[i])
		f.Chains = append(f.Chains, pf.Chains...)
		f.Elements = append(f.Elements, pf.Elements...)
	}
	f.Dedup()
	// A Service too large to program is left out (its ClusterIP is then
	// rejected like an unallocated one) rather than failing the whole
	// batch, and with it every other Service, at each retry.
	if err := f.Check(); err != nil {
		p.m.skipped.WithLabelValues(skipTooLarge).Inc()
		p.log.Error("service too large to program, skipped", zap.String("service", key), zap.Error(err))
		return nil
	}
	return f
}
