// Package endpoint is the Endpoints controller: for each Service with a
// selector it keeps an Endpoints object of the same name listing the
// selected pods, ready ones in addresses and the others in
// notReadyAddresses (all in addresses when the Service publishes not-ready
// addresses), with each Service port resolved to the pod's target port, so
// that pods with different numbers for a named port land in different
// subsets. A pod whose containers have no port of a Service port's target
// name is left out for that port, and a Warning Event on the Service says
// so, once each time the set of such pods changes. Endpoints of Services without a selector are left to whoever manages
// them; the Endpoints of a deleted Service are deleted.
package endpoint

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "endpoint"

// Controller is the Endpoints controller.
type Controller struct {
	*controller.Loop
	cs        *clientset.Set
	services  informer.Lister[*corev1.Service]
	pods      informer.Lister[*corev1.Pod]
	endpoints informer.Lister[*corev1.Endpoints]
	events    *record.Recorder
	log       *zap.Logger

	mu         sync.Mutex
	unresolved map[string]map[Unresolved]bool // by Service key: what was last reported
}

// New returns the controller, fed by the Service, Pod and Endpoints informers.
func New(cs *clientset.Set, services *informer.Informer[*corev1.Service], pods *informer.Informer[*corev1.Pod],
	endpoints *informer.Informer[*corev1.Endpoints], events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	c := &Controller{cs: cs, services: services.Lister(), pods: pods.Lister(), endpoints: endpoints.Lister(), events: events, log: log, unresolved: map[string]map[Unresolved]bool{}}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	services.AddHandler(informer.HandlerFuncs[*corev1.Service]{
		AddFunc:    func(s *corev1.Service) { c.Enqueue(controller.Key(s.GetMetadata())) },
		UpdateFunc: func(_, s *corev1.Service) { c.Enqueue(controller.Key(s.GetMetadata())) },
		DeleteFunc: func(s *corev1.Service) { c.Enqueue(controller.Key(s.GetMetadata())) },
	})
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc: func(p *corev1.Pod) { c.podChanged(p) },
		UpdateFunc: func(old, p *corev1.Pod) {
			if !maps.Equal(old.GetMetadata().GetLabels(), p.GetMetadata().GetLabels()) {
				c.podChanged(old)
			}
			c.podChanged(p)
		},
		DeleteFunc: func(p *corev1.Pod) { c.podChanged(p) },
	})
	// Endpoints changed or deleted behind the controller's back are put
	// right, as long as their Service is there to say what they hold.
	ifService := func(ep *corev1.Endpoints) {
		if _, ok := c.services.Get(ep.GetMetadata().GetNamespace(), ep.GetMetadata().GetName()); ok {
			c.Enqueue(controller.Key(ep.GetMetadata()))
		}
	}
	endpoints.AddHandler(informer.HandlerFuncs[*corev1.Endpoints]{
		UpdateFunc: func(_, ep *corev1.Endpoints) { ifService(ep) },
		DeleteFunc: ifService,
	})
	return c, nil
}

// podChanged queues every Service of the pod's namespace that selects it.
func (c *Controller) podChanged(p *corev1.Pod) {
	m := p.GetMetadata()
	for _, s := range c.services.ListNamespace(m.GetNamespace(), nil) {
		sel := s.GetSpec().GetSelector()
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(m.GetLabels())) {
			c.Enqueue(controller.Key(s.GetMetadata()))
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := informer.SplitKey(key)
	svc, ok := c.services.Get(ns, name)
	cur, have := c.endpoints.Get(ns, name)
	if !ok {
		c.reported(key, nil)
		if !have {
			return nil
		}
		_, err := c.cs.Endpoints().Delete(ctx, &metav1.DeleteOptions{Namespace: ns, Name: name})
		if err != nil && status.Code(err) != codes.NotFound {
			return fmt.Errorf("delete endpoints %s: %w", key, err)
		}
		c.log.Info("endpoints deleted with their service", zap.String("service", key))
		return nil
	}
	sel := svc.GetSpec().GetSelector()
	if len(sel) == 0 || svc.GetSpec().GetType() == "ExternalName" {
		return nil // not ours: users or other components manage them
	}
	pods := c.pods.ListNamespace(ns, labels.SelectorFromSet(sel))
	subsets, unresolved := Subsets(svc, pods)
	for _, u := range c.reported(key, unresolved) {
		c.events.Eventf(serviceRef(svc), "Warning", "FailedToResolvePort",
			"pod %s/%s has no container port named %q for service port %q: it is left out of the endpoints for that port", ns, u.Pod, u.TargetPort, u.Port)
	}
	want := &corev1.Endpoints{
		ApiVersion: "v1", Kind: "Endpoints",
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: ns, Labels: maps.Clone(svc.GetMetadata().GetLabels())},
		Subsets:  subsets,
	}
	if have {
		if proto.Equal(&corev1.Endpoints{Subsets: cur.GetSubsets()}, &corev1.Endpoints{Subsets: subsets}) &&
			maps.Equal(cur.GetMetadata().GetLabels(), want.Metadata.Labels) {
			return nil
		}
		next := proto.Clone(cur).(*corev1.Endpoints)
		next.Subsets = subsets
		next.Metadata.Labels = want.Metadata.Labels
		if _, err := c.cs.Endpoints().Update(ctx, next); err != nil {
			return fmt.Errorf("update endpoints %s: %w", key, err)
		}
		c.log.Debug("endpoints updated", zap.String("service", key), zap.Int("subsets", len(subsets)))
		return nil
	}
	if _, err := c.cs.Endpoints().Create(ctx, want); err != nil {
		return fmt.Errorf("create endpoints %s: %w", key, err)
	}
	c.log.Debug("endpoints created", zap.String("service", key), zap.Int("subsets", len(subsets)))
	return nil
}

// serviceRef is the ObjectReference of a Service, for Events about it.
func serviceRef(s *corev1.Service) *corev1.ObjectReference {
	m := s.GetMetadata()
	return &corev1.ObjectReference{Kind: "Service", ApiVersion: "v1", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion()}
}

// reported records the unresolved pods of a Service and returns those not
// in the previous set, so that the Warning is sent when the set changes,
// not on every sync.
func (c *Controller) reported(key string, now []Unresolved) []Unresolved {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.unresolved[key]
	if len(now) == 0 {
		delete(c.unresolved, key)
		return nil
	}
	next := make(map[Unresolved]bool, len(now))
	var added []Unresolved
	for _, u := range now {
		next[u] = true
		if !prev[u] {
			added = append(added, u)
		}
	}
	c.unresolved[key] = next
	return added
}
