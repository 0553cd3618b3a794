package pods

import (
	"context"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
)

// Sources are the secret, config map and Service informers the pods'
// volumes and env read. A kubelet has its own; hollow nodes share one.
type Sources struct {
	secrets    *informer.Informer[*corev1.Secret]
	configMaps *informer.Informer[*corev1.ConfigMap]
	services   *informer.Informer[*corev1.Service]
}

var (
	_ volume.Source = (*Sources)(nil)
	_ ServiceLister = (*Sources)(nil)
)

// NewSources builds the informers; Run them after every Manager using them
// was created.
func NewSources(cs *clientset.Set, log *zap.Logger) *Sources {
	opts := informer.Options{Logger: log}
	return &Sources{
		secrets:    informer.New(cs.Secrets(), opts),
		configMaps: informer.New(cs.ConfigMaps(), opts),
		services:   informer.New(cs.Services(), opts),
	}
}

// Run runs the informers until ctx ends.
func (s *Sources) Run(ctx context.Context) {
	go s.configMaps.Run(ctx)
	go s.services.Run(ctx)
	s.secrets.Run(ctx)
}

func (s *Sources) waitForSync(ctx context.Context) bool {
	return s.secrets.WaitForSync(ctx) && s.configMaps.WaitForSync(ctx) && s.services.WaitForSync(ctx)
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

// Secret reads a secret from the cache.
func (s *Sources) Secret(ns, name string) (*corev1.Secret, bool) {
	return s.secrets.Lister().Get(ns, name)
}

// ConfigMap reads a config map from the cache.
func (s *Sources) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	return s.configMaps.Lister().Get(ns, name)
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
	for _, v := range p.GetSpec().GetVolumes() {
		if (kind == "Secret" && v.GetSecret().GetSecretName() == name) || (kind == "ConfigMap" && v.GetConfigMap().GetName() == name) {
			return true
		}
	}
	for _, c := range append(p.GetSpec().GetInitContainers(), p.GetSpec().GetContainers()...) {
		for _, ef := range c.GetEnvFrom() {
			if (kind == "Secret" && ef.GetSecretRef().GetName() == name) || (kind == "ConfigMap" && ef.GetConfigMapRef().GetName() == name) {
				return true
			}
		}
		for _, e := range c.GetEnv() {
			vf := e.GetValueFrom()
			if (kind == "Secret" && vf.GetSecretKeyRef().GetName() == name) || (kind == "ConfigMap" && vf.GetConfigMapKeyRef().GetName() == name) {
				return true
			}
		}
	}
	return false
}

// watchSources requeues the pods that use a secret or config map that changed.
func (m *Manager) watchSources(s *Sources) {
	s.secrets.AddHandler(informer.HandlerFuncs[*corev1.Secret]{
		AddFunc: func(o *corev1.Secret) {
			m.requeueUsers("Secret", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
		UpdateFunc: func(_, o *corev1.Secret) {
			m.requeueUsers("Secret", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
		DeleteFunc: func(o *corev1.Secret) {
			m.requeueUsers("Secret", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
	})
	s.configMaps.AddHandler(informer.HandlerFuncs[*corev1.ConfigMap]{
		AddFunc: func(o *corev1.ConfigMap) {
			m.requeueUsers("ConfigMap", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
		UpdateFunc: func(_, o *corev1.ConfigMap) {
			m.requeueUsers("ConfigMap", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
		DeleteFunc: func(o *corev1.ConfigMap) {
			m.requeueUsers("ConfigMap", o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
		},
	})
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
