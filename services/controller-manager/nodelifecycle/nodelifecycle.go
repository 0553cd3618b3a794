// Package nodelifecycle is the node lifecycle controller: a node whose
// heartbeat (its Lease in kube-node-lease, or its Ready condition) is
// older than the grace period is marked Ready=Unknown, its pods not
// ready, and tainted node.kubernetes.io/unreachable:NoExecute (a node
// that reports Ready=False is tainted not-ready). Pods on a node with a
// NoExecute taint they do not tolerate are evicted once their toleration
// runs out (DefaultTolerationSeconds when they have none for the
// unreachable and not-ready taints), so that their owners replace them
// on healthy nodes. The taints go when the node is Ready again. The pods
// of a deleted node are deleted.
package nodelifecycle

import (
	"context"
	"sync"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "nodelifecycle"

// The taints this controller manages.
const (
	TaintUnreachable = "node.kubernetes.io/unreachable"
	TaintNotReady    = "node.kubernetes.io/not-ready"
)

// Config tunes the controller.
type Config struct {
	// GracePeriod is how old a heartbeat may be before the node is
	// unreachable (40 s).
	GracePeriod time.Duration
	// DefaultTolerationSeconds is how long a pod without its own
	// toleration of the unreachable and not-ready taints stays (300).
	DefaultTolerationSeconds int
	// MonitorPeriod is how often every node is checked (5 s; at most a
	// fifth of GracePeriod).
	MonitorPeriod time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Controller is the node lifecycle controller.
type Controller struct {
	*controller.Loop
	cfg    Config
	cs     *clientset.Set
	nodes  informer.Lister[*corev1.Node]
	leases informer.Lister[*coordinationv1.Lease]
	pods   informer.Lister[*corev1.Pod]
	events *record.Recorder
	log    *zap.Logger

	// byNode indexes active pods by node, from the pod informer; gone
	// holds the nodes deleted whose pods are not all gone yet.
	mu     sync.Mutex
	byNode map[string]map[string]*corev1.Pod
	gone   map[string]bool
}

// New returns the controller, fed by the Node, Lease and Pod informers.
func New(cfg Config, cs *clientset.Set, nodes *informer.Informer[*corev1.Node], leases *informer.Informer[*coordinationv1.Lease],
	pods *informer.Informer[*corev1.Pod], events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MonitorPeriod <= 0 {
		cfg.MonitorPeriod = min(5*time.Second, cfg.GracePeriod/5)
	}
	c := &Controller{cfg: cfg, cs: cs, nodes: nodes.Lister(), leases: leases.Lister(), pods: pods.Lister(), events: events, log: log,
		byNode: map[string]map[string]*corev1.Pod{}, gone: map[string]bool{}}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(n *corev1.Node) { c.Enqueue(n.GetMetadata().GetName()) }
	nodes.AddHandler(informer.HandlerFuncs[*corev1.Node]{
		AddFunc: func(n *corev1.Node) {
			c.mu.Lock()
			delete(c.gone, n.GetMetadata().GetName())
			c.mu.Unlock()
			enqueue(n)
		},
		UpdateFunc: func(_, n *corev1.Node) { enqueue(n) },
		DeleteFunc: func(n *corev1.Node) {
			c.mu.Lock()
			c.gone[n.GetMetadata().GetName()] = true
			c.mu.Unlock()
			enqueue(n)
		},
	})
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    c.podChanged,
		UpdateFunc: func(_, p *corev1.Pod) { c.podChanged(p) },
		DeleteFunc: c.podDeleted,
	})
	return c, nil
}

func (c *Controller) podChanged(p *corev1.Pod) {
	node := p.GetSpec().GetNodeName()
	if node == "" {
		return
	}
	k := controller.Key(p.GetMetadata())
	c.mu.Lock()
	if !controller.Active(p) {
		delete(c.byNode[node], k)
		gone := c.gone[node]
		c.mu.Unlock()
		if gone {
			c.Enqueue(node)
		}
		return
	}
	set := c.byNode[node]
	_, known := set[k]
	if set == nil {
		set = map[string]*corev1.Pod{}
		c.byNode[node] = set
	}
	set[k] = p
	c.mu.Unlock()
	if !known {
		c.Enqueue(node) // a pod landing on a tainted node
	}
}

func (c *Controller) podDeleted(p *corev1.Pod) {
	node := p.GetSpec().GetNodeName()
	c.mu.Lock()
	delete(c.byNode[node], controller.Key(p.GetMetadata()))
	gone := c.gone[node]
	c.mu.Unlock()
	if gone {
		c.Enqueue(node) // the last pod of a deleted node drops its index entry
	}
}

// podsOn returns the active pods bound to node.
func (c *Controller) podsOn(node string) []*corev1.Pod {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*corev1.Pod, 0, len(c.byNode[node]))
	for _, p := range c.byNode[node] {
		out = append(out, p)
	}
	return out
}

// Run runs the workers and the monitor, which queues every node each
// MonitorPeriod, until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Go(func() { c.Loop.Run(ctx, workers) })
	t := time.NewTicker(c.cfg.MonitorPeriod)
	defer func() { t.Stop(); wg.Wait() }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, n := range c.nodes.List(nil) {
				c.Enqueue(n.GetMetadata().GetName())
			}
		}
	}
}
