// Package pods runs the kubelet's pods: it watches the pods bound to its
// node, drives the CRI runtime to match each one (sandbox, image pulls,
// containers, restarts with crash-loop backoff, graceful termination) and
// reports their status. The runtime is the source of truth: after a kubelet
// restart the running sandboxes are found again by their labels and adopted;
// sandboxes that belong to no pod are removed.
package pods

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/client/workqueue"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/probe"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Config configures a Manager.
type Config struct {
	NodeName string
	NodeIP   string
	// LogDir holds the pods' container logs (<LogDir>/<ns>_<name>_<uid>/).
	LogDir string
	// RuntimeName prefixes container IDs in status ("containerd").
	RuntimeName string
	// Workers is the number of pods synced in parallel.
	Workers int
	// RelistPeriod is how often the runtime is listed to notice containers
	// that changed by themselves (exited, say).
	RelistPeriod time.Duration
	// ResyncPeriod syncs every pod this often regardless.
	ResyncPeriod time.Duration
	// Prober checks the containers' probes; the real one (HTTP, TCP, exec
	// through the runtime) when nil.
	Prober probe.Checker
	// VolumeDir holds the pods' volumes (<VolumeDir>/<uid>/volumes/...).
	VolumeDir string
	// Mounter mounts the tmpfs of secret and memory volumes; the real
	// one when nil.
	Mounter volume.Mounter
	// Sources are the shared per-object secret and config map watches and
	// the Services informer, which the caller runs; when nil the Manager
	// makes and runs its own.
	Sources *Sources
	// Allocatable is the node's, for resourceFieldRef of unset limits.
	Allocatable map[string]string
	// ClusterDNS are the cluster DNS servers ClusterFirst pods use; none:
	// they get the host's resolv.conf.
	ClusterDNS []string
	// ClusterDomain is the cluster's DNS domain (cluster.local).
	ClusterDomain string
	// ResolvConf is the host's resolv.conf, read for each new sandbox
	// (Default pods, hostNetwork pods, and the searches ClusterFirst pods
	// add to their own); "" for none.
	ResolvConf string
	Registerer prometheus.Registerer
}

// Manager keeps the node's pods running.
type Manager struct {
	cfg      Config
	cs       *clientset.Set
	rt       *cri.Runtime
	log      *zap.Logger
	rec      *record.Recorder
	inf      *informer.Informer[*corev1.Pod]
	queue    *workqueue.Queue[string]
	statuses statusCache
	metrics  *metrics
	backoff  *backoff
	probes   *probe.Manager
	sources  *Sources      // the secret and config map watches, the Services informer
	src      volume.Source // reads them
	svcs     ServiceLister // the Services whose variables pods get
	ownSrc   bool          // Run runs sources
	volumes  *volume.Manager
	stop     context.CancelFunc

	mu           sync.Mutex
	terminating  map[string]bool                  // pod UIDs being stopped
	waiting      map[string]map[string]waitReason // UID -> container -> why it is not running
	podIPs       map[string]string                // sandbox ID -> IP
	seen         map[string]time.Time             // pod UID -> first seen, for startup latency
	killing      map[string]bool                  // container IDs being stopped for a failed probe
	volumeStates map[string]volumeState           // pod UID -> its volumes' last setup
	evicted      map[string]string                // pod UID -> why it was evicted
	confirmed    map[string]bool                  // pod UIDs whose deletion this kubelet confirmed, until the informer drops them
}

// waitReason is why a container is waiting (ErrImagePull, CrashLoopBackOff...).
type waitReason struct{ reason, message string }

// New builds a Manager over an informer of the node's pods.
func New(cfg Config, cs *clientset.Set, rt *cri.Runtime, rec *record.Recorder, log *zap.Logger) (*Manager, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.RelistPeriod <= 0 {
		cfg.RelistPeriod = time.Second
	}
	if cfg.ResyncPeriod <= 0 {
		cfg.ResyncPeriod = time.Minute
	}
	if cfg.RuntimeName == "" {
		cfg.RuntimeName = "containerd"
	}
	met, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	q, err := workqueue.New(workqueue.Config[string]{Name: "kubelet_pods", Registerer: cfg.Registerer})
	if err != nil {
		return nil, fmt.Errorf("pod queue: %w", err)
	}
	m := &Manager{
		cfg: cfg, cs: cs, rt: rt, log: log, rec: rec, queue: q, metrics: met,
		backoff:      newBackoff(10*time.Second, 5*time.Minute, 10*time.Minute),
		terminating:  map[string]bool{},
		waiting:      map[string]map[string]waitReason{},
		podIPs:       map[string]string{},
		seen:         map[string]time.Time{},
		killing:      map[string]bool{},
		volumeStates: map[string]volumeState{},
		evicted:      map[string]string{},
		confirmed:    map[string]bool{},
	}
	if cfg.Mounter == nil {
		cfg.Mounter = volume.System{}
	}
	if cfg.VolumeDir == "" {
		return nil, fmt.Errorf("pods: a volume directory is required")
	}
	if cfg.Prober == nil {
		cfg.Prober = probe.NewProber(rt)
	}
	var probeCtx context.Context
	probeCtx, m.stop = context.WithCancel(context.Background())
	m.probes = m.newProbes(probeCtx, cfg.Prober)
	m.inf = informer.New(cs.Pods(), informer.Options{
		FieldSelector: "spec.nodeName=" + cfg.NodeName,
		ResyncPeriod:  cfg.ResyncPeriod,
		Logger:        log,
	})
	m.sources, m.ownSrc = cfg.Sources, cfg.Sources == nil
	if m.ownSrc {
		m.sources = NewSources(cs, log)
		if err := m.sources.Register(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	m.watchSources(m.sources)
	m.src = m.sources
	m.svcs = m.sources
	m.volumes = volume.New(cfg.VolumeDir, cfg.Mounter, m.src)
	m.inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc: func(p *corev1.Pod) {
			m.sources.registerPod(p)
			m.notePod(p)
			m.queue.Add(informer.Key(p.GetMetadata()))
		},
		UpdateFunc: func(_, p *corev1.Pod) { m.sources.registerPod(p); m.queue.Add(informer.Key(p.GetMetadata())) },
		DeleteFunc: func(p *corev1.Pod) {
			m.sources.forgetPod(p)
			m.mu.Lock()
			delete(m.confirmed, p.GetMetadata().GetUid())
			m.mu.Unlock()
			m.queue.Add(informer.Key(p.GetMetadata()))
		},
	})
	return m, nil
}

// Lister reads the node's pods from the informer's cache.
func (m *Manager) Lister() informer.Lister[*corev1.Pod] { return m.inf.Lister() }

// Run syncs pods until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	go m.inf.Run(ctx)
	if m.ownSrc {
		go m.sources.Run(ctx)
	}
	if !m.inf.WaitForSync(ctx) || !m.sources.waitForSync(ctx) {
		return ctx.Err()
	}
	if err := m.removeOrphans(ctx); err != nil {
		m.log.Warn("orphaned sandboxes not removed", zap.Error(err))
	}
	m.removeOrphanVolumes()
	var wg sync.WaitGroup
	for range m.cfg.Workers {
		wg.Go(func() { m.work(ctx) })
	}
	go m.relistLoop(ctx)
	<-ctx.Done()
	m.stop()
	m.queue.ShutDown()
	wg.Wait()
	return nil
}

func (m *Manager) work(ctx context.Context) {
	for {
		key, shutdown := m.queue.Get()
		if shutdown {
			return
		}
		start := time.Now()
		err := m.sync(ctx, key)
		m.metrics.syncDuration.Observe(time.Since(start).Seconds())
		switch {
		case err == nil:
			m.queue.Forget(key)
		case ctx.Err() != nil:
		default:
			m.metrics.syncErrors.Inc()
			m.log.Warn("pod sync failed", zap.String("pod", key), zap.Error(err))
			m.queue.AddRateLimited(key)
		}
		m.queue.Done(key)
	}
}

// notePod remembers when the kubelet first saw a pod.
func (m *Manager) notePod(p *corev1.Pod) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.seen[p.GetMetadata().GetUid()]; !ok {
		m.seen[p.GetMetadata().GetUid()] = time.Now()
	}
}

// relistLoop lists the runtime every RelistPeriod and queues the pods whose
// sandboxes or containers changed state since the last list.
func (m *Manager) relistLoop(ctx context.Context) {
	prev := map[string]string{}
	t := time.NewTicker(m.cfg.RelistPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := m.fingerprints(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("runtime relist failed", zap.Error(err))
			}
			continue
		}
		for key, fp := range cur {
			if prev[key] != fp {
				m.queue.Add(key)
			}
		}
		for key := range prev {
			if _, ok := cur[key]; !ok {
				m.queue.Add(key)
			}
		}
		prev = cur
	}
}

// fingerprints maps each pod key in the runtime to a string of its objects'
// IDs and states.
func (m *Manager) fingerprints(ctx context.Context) (map[string]string, error) {
	sel := map[string]string{cri.LabelManagedBy: cri.ManagedBy}
	sbs, err := m.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		return nil, err
	}
	cs, err := m.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: sel}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	ready := 0
	for _, s := range sbs.GetItems() {
		k := s.GetLabels()[cri.LabelPodNamespace] + "/" + s.GetLabels()[cri.LabelPodName]
		out[k] += s.GetId() + s.GetState().String()
		if s.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			ready++
		}
	}
	m.metrics.running.Set(float64(ready))
	for _, c := range cs.GetContainers() {
		k := c.GetLabels()[cri.LabelPodNamespace] + "/" + c.GetLabels()[cri.LabelPodName]
		out[k] += c.GetId() + c.GetState().String()
	}
	return out, nil
}

// removeOrphans stops and removes sandboxes whose pod is not bound to this
// node any more (found after a restart); the running ones of known pods are
// adopted as they are.
func (m *Manager) removeOrphans(ctx context.Context) error {
	sel := map[string]string{cri.LabelManagedBy: cri.ManagedBy}
	sbs, err := m.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: sel}})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	for _, s := range sbs.GetItems() {
		l := s.GetLabels()
		pod, ok := m.inf.Lister().Get(l[cri.LabelPodNamespace], l[cri.LabelPodName])
		if ok && pod.GetMetadata().GetUid() == l[cri.LabelPodUID] {
			continue
		}
		m.log.Info("removing orphaned sandbox", zap.String("sandbox", s.GetId()), zap.String("pod", l[cri.LabelPodNamespace]+"/"+l[cri.LabelPodName]))
		if _, err := m.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", s.GetId(), err)
		}
		if _, err := m.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			return fmt.Errorf("remove sandbox %s: %w", s.GetId(), err)
		}
		if !ok {
			_ = os.RemoveAll(m.podLogDir(l[cri.LabelPodNamespace], l[cri.LabelPodName], l[cri.LabelPodUID]))
		}
	}
	return nil
}
