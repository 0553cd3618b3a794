package pods

import (
	"context"
	"slices"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/objects"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
)

// Sources are what the pods' volumes and env read: the secrets and config
// maps the node's pods use, each watched by name while a pod uses it (the
// node authoriser allows nothing wider), and a Services informer over all
// namespaces (nodes may list Services). A kubelet has its own; hollow
// nodes share one.
type Sources struct {
	secrets    *objects.Store[*corev1.Secret]
	configMaps *objects.Store[*corev1.ConfigMap]
	services   *informer.Informer[*corev1.Service]
}

var (
	_ volume.Source = (*Sources)(nil)
	_ ServiceLister = (*Sources)(nil)
)

// NewSources builds the stores and the Services informer; Run them after
// every Manager using them was created. A list of one secret or config
// map the node authoriser refuses is retried briefly first
// (objects.RetryForbidden): it may not have seen the new pod yet.
func NewSources(cs *clientset.Set, log *zap.Logger) *Sources {
	return &Sources{
		secrets: objects.New("Secret", func(o informer.Options) *informer.Informer[*corev1.Secret] {
			return informer.New(objects.RetryForbidden(cs.Secrets(), o.Logger), o)
		}, log),
		configMaps: objects.New("ConfigMap", func(o informer.Options) *informer.Informer[*corev1.ConfigMap] {
			return informer.New(objects.RetryForbidden(cs.ConfigMaps(), o.Logger), o)
		}, log),
		services: informer.New(cs.Services(), informer.Options{Logger: log}),
	}
}

// Run runs the watches until ctx ends.
func (s *Sources) Run(ctx context.Context) {
	go s.configMaps.Run(ctx)
	go s.services.Run(ctx)
	s.secrets.Run(ctx)
}

// waitForSync waits for the Services informer's first list and for the
// secret and config map stores to run (a lookup before would not wait
// for its object's first list).
func (s *Sources) waitForSync(ctx context.Context) bool {
	return s.secrets.WaitRunning(ctx) && s.configMaps.WaitRunning(ctx) && s.services.WaitForSync(ctx)
}

// registerPod watches what the pod uses (and stops watching what it no
// longer does).
func (s *Sources) registerPod(p *corev1.Pod) {
	uid := p.GetMetadata().GetUid()
	sec, cms := references(p)
	s.secrets.Set(uid, sec)
	s.configMaps.Set(uid, cms)
}

// forgetPod drops a deleted pod's references.
func (s *Sources) forgetPod(p *corev1.Pod) {
	uid := p.GetMetadata().GetUid()
	s.secrets.Forget(uid)
	s.configMaps.Forget(uid)
}

// Watching lists the secrets and config maps being watched, for tests.
func (s *Sources) Watching() (secrets, configMaps []objects.Key) {
	return s.secrets.Watching(), s.configMaps.Watching()
}

// ServicesFor reads the Services of ns and default/kubernetes from the cache.
func (s *Sources) ServicesFor(ns string) []*corev1.Service {
	l := s.services.Lister()
	out := l.ListNamespace(ns, nil)
	if ns != "default" {
		if k, ok := l.Get("default", masterService); ok {
			out = append(out, k)
		}
	}
	return out
}

// Secret reads a secret a registered pod uses.
func (s *Sources) Secret(ns, name string) (*corev1.Secret, bool) {
	return s.secrets.Get(ns, name)
}

// ConfigMap reads a config map a registered pod uses.
func (s *Sources) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	return s.configMaps.Get(ns, name)
}

// references are the secrets and config maps a pod uses: volumes, env
// and envFrom of every container (the node authoriser's list).
func references(p *corev1.Pod) (secrets, configMaps []objects.Key) {
	ns := p.GetMetadata().GetNamespace()
	sec := func(name string) {
		if name != "" {
			secrets = append(secrets, objects.Key{Namespace: ns, Name: name})
		}
	}
	cm := func(name string) {
		if name != "" {
			configMaps = append(configMaps, objects.Key{Namespace: ns, Name: name})
		}
	}
	for _, v := range p.GetSpec().GetVolumes() {
		sec(v.GetSecret().GetSecretName())
		cm(v.GetConfigMap().GetName())
	}
	for _, c := range append(append([]*corev1.Container(nil), p.GetSpec().GetInitContainers()...), p.GetSpec().GetContainers()...) {
		for _, ef := range c.GetEnvFrom() {
			sec(ef.GetSecretRef().GetName())
			cm(ef.GetConfigMapRef().GetName())
		}
		for _, e := range c.GetEnv() {
			sec(e.GetValueFrom().GetSecretKeyRef().GetName())
			cm(e.GetValueFrom().GetConfigMapKeyRef().GetName())
		}
	}
	return secrets, configMaps
}

// volumeState is what the last setup of a pod's volumes gave.
type volumeState struct {
	paths map[string]string
	err   error
}

// setupVolumes prepares (or refreshes) the pod's volumes; a failure is an
// Event and keeps the containers that need them from being created.
func (m *Manager) setupVolumes(pod *corev1.Pod) {
	paths, err := m.volumes.Setup(pod)
	if err != nil {
		m.rec.Eventf(record.PodRef(pod), record.Warning, "FailedMount", "MountVolume.SetUp failed: %v", err)
	}
	m.mu.Lock()
	m.volumeStates[pod.GetMetadata().GetUid()] = volumeState{paths: paths, err: err}
	m.mu.Unlock()
}

func (m *Manager) volumeState(uid string) volumeState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.volumeStates[uid]
}

// teardownVolumes unmounts and removes a stopped pod's volumes.
func (m *Manager) teardownVolumes(uid string) error {
	m.mu.Lock()
	delete(m.volumeStates, uid)
	m.mu.Unlock()
	return m.volumes.Teardown(uid)
}

// requeueUsers queues the node's pods in ns that use the secret (or config
// map) name, so their volumes are refreshed and containers waiting for a
// key are retried.
func (m *Manager) requeueUsers(kind, ns, name string) {
	for _, p := range m.inf.Lister().ListNamespace(ns, nil) {
		if uses(p, kind, name) {
			m.queue.Add(informer.Key(p.GetMetadata()))
		}
	}
}

// uses says whether a pod refers to the secret or config map name.
func uses(p *corev1.Pod, kind, name string) bool {
	secrets, configMaps := references(p)
	keys := configMaps
	if kind == "Secret" {
		keys = secrets
	}
	return slices.Contains(keys, objects.Key{Namespace: p.GetMetadata().GetNamespace(), Name: name})
}

// watchSources requeues the pods that use a secret or config map that changed.
func (m *Manager) watchSources(s *Sources) {
	s.secrets.OnChange(func(k objects.Key) { m.requeueUsers("Secret", k.Namespace, k.Name) })
	s.configMaps.OnChange(func(k objects.Key) { m.requeueUsers("ConfigMap", k.Namespace, k.Name) })
}

// removeOrphanVolumes tears down the volumes of pods this node no longer has.
func (m *Manager) removeOrphanVolumes() {
	known := map[string]bool{}
	for _, p := range m.inf.Lister().List(nil) {
		known[p.GetMetadata().GetUid()] = true
	}
	if err := m.volumes.Orphans(func(uid string) bool { return known[uid] }); err != nil {
		m.log.Warn("orphaned pod volumes not removed", zap.Error(err))
	}
}
