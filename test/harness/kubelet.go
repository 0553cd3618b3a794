package harness

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/app"
	"go.uber.org/zap"
)

// HollowLabel is the label every hollow node carries, set to "true".
const HollowLabel = "tugboat.io/hollow"

// HollowOption adjusts how StartHollowKubelets runs the hollow kubelets.
type HollowOption func(*hollowOptions)

type hollowOptions struct {
	name      string
	configure []func(*app.Config)
	timeout   time.Duration
}

// WithHollowName sets the kubelet's --node-name ("hollow" by default): the
// nodes are <name>-hollow-<i>. Two sets of hollow kubelets on one
// apiserver need different names.
func WithHollowName(name string) HollowOption {
	return func(o *hollowOptions) { o.name = name }
}

// WithHollowCapacity sets --hollow-capacity, the capacity (and
// allocatable) of every node, e.g. "cpu=2,memory=4Gi,pods=20".
func WithHollowCapacity(capacity string) HollowOption {
	return WithKubeletConfig(func(c *app.Config) { c.HollowCapacity = capacity })
}

// WithRelistPeriod sets --relist-period, how often each node lists its
// fake runtime for containers that changed by themselves (10 s for hollow
// nodes unless set; note that the kubelet reads exactly 1 s as "unset").
func WithRelistPeriod(d time.Duration) HollowOption {
	return WithKubeletConfig(func(c *app.Config) { c.RelistPeriod = d })
}

// WithKubeletConfig adjusts the kubelet's configuration before it runs.
func WithKubeletConfig(fn func(*app.Config)) HollowOption {
	return func(o *hollowOptions) { o.configure = append(o.configure, fn) }
}

// WithReadyTimeout bounds the wait for every node to be registered and
// Ready (StartTimeout by default; a thousand nodes under the race
// detector may need more).
func WithReadyTimeout(d time.Duration) HollowOption {
	return func(o *hollowOptions) { o.timeout = d }
}

// HollowKubelets is one kubelet process's worth of hollow nodes running in
// the test's process.
type HollowKubelets struct {
	// Config is the configuration the kubelet runs with.
	Config app.Config
	// Nodes are the names of the hollow nodes, in index order.
	Nodes []string
	// Started is when app.Run was started; Ready when every node was
	// seen registered and Ready.
	Started, Ready time.Time
	// Stop stops the kubelet, as if its machine were lost: its nodes
	// stop renewing their Leases and their pods stay bound to them. It
	// waits until the kubelet has stopped (also done on cleanup).
	Stop func()
}

// StartHollowKubelets runs services/kubelet/app.Run with HollowNodes n
// against api: n kubelets named <name>-hollow-<i> over in-memory fake
// runtimes, which register their Nodes, renew their Leases and run the
// pods bound to them as fake containers. It waits until all n Nodes exist
// and are Ready, and stops the kubelet on t.Cleanup.
//
// The fake runtimes live inside app.Run: a test cannot steer them (make a
// container exit, an image missing). Their containers run until stopped,
// and only images of the registry tugboat.local can be pulled.
func StartHollowKubelets(t testing.TB, api *APIServer, n int, opts ...HollowOption) *HollowKubelets {
	t.Helper()
	if n <= 0 {
		t.Fatalf("StartHollowKubelets: %d nodes", n)
	}
	o := hollowOptions{name: "hollow", timeout: StartTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := app.DefaultConfig()
	// Hollow kubelets run many nodes in one process over one connection,
	// so no single node identity fits them: they use the admin's
	// credentials (system:masters). The node authoriser is tested with
	// real node identities elsewhere (services/apiserver/integration,
	// test/e2e's security_test.go, whose kubelet is system:node:e2e-node).
	cfg.Kubeconfig = api.Kubeconfig
	cfg.NodeName = o.name
	cfg.RootDir = t.TempDir()
	cfg.MetricsAddress = "127.0.0.1:0"
	cfg.Port = 0
	cfg.HollowNodes = n
	for _, fn := range o.configure {
		fn(&cfg)
	}
	h := &HollowKubelets{Config: cfg, Nodes: make([]string, n)}
	want := make(map[string]bool, n)
	for i := range n {
		h.Nodes[i] = fmt.Sprintf("%s-hollow-%d", cfg.NodeName, i)
		want[h.Nodes[i]] = true
	}

	// Watch the nodes before they register, so that waiting for a
	// thousand of them costs one watch rather than repeated lists.
	nodes := informer.New(api.Client.Nodes(), informer.Options{LabelSelector: HollowLabel + "=true"})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { nodes.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	if !nodes.WaitForSync(Context(t, StartTimeout)) {
		t.Fatal("node informer did not sync")
	}

	h.Started = time.Now()
	c := run(t, "kubelet", func(ctx context.Context, log *zap.Logger) error { return app.Run(ctx, cfg, log) })
	Poll(t, o.timeout, fmt.Sprintf("%d hollow nodes %s-hollow-* are registered and Ready", n, cfg.NodeName), func() (bool, string) {
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("kubelet exited before its nodes were Ready: %v", err)
		default:
		}
		ready, registered := 0, 0
		var notReady string
		for _, node := range nodes.Lister().List(nil) {
			name := node.GetMetadata().GetName()
			if !want[name] {
				continue
			}
			registered++
			if NodeReady(node) {
				ready++
			} else if notReady == "" {
				notReady = name
			}
		}
		status := fmt.Sprintf("%d registered, %d Ready", registered, ready)
		if notReady != "" {
			status += "; not Ready: " + notReady
		}
		return ready == n, status
	})
	h.Ready = time.Now()
	h.Stop = func() { c.stop(t) }
	return h
}

// NodeReady reports whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == "True"
		}
	}
	return false
}
