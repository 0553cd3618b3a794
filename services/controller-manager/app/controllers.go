package app

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/record"
	"github.com/tugboat-sh/tugboat/services/controller-manager/bootstrapsigner"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"github.com/tugboat-sh/tugboat/services/controller-manager/cronjob"
	"github.com/tugboat-sh/tugboat/services/controller-manager/csrapproving"
	"github.com/tugboat-sh/tugboat/services/controller-manager/csrsigning"
	"github.com/tugboat-sh/tugboat/services/controller-manager/deployment"
	"github.com/tugboat-sh/tugboat/services/controller-manager/endpoint"
	"github.com/tugboat-sh/tugboat/services/controller-manager/gc"
	"github.com/tugboat-sh/tugboat/services/controller-manager/job"
	"github.com/tugboat-sh/tugboat/services/controller-manager/namespace"
	"github.com/tugboat-sh/tugboat/services/controller-manager/nodeipam"
	"github.com/tugboat-sh/tugboat/services/controller-manager/nodelifecycle"
	"github.com/tugboat-sh/tugboat/services/controller-manager/replicaset"
	"github.com/tugboat-sh/tugboat/services/controller-manager/tokencleaner"
	"go.uber.org/zap"
)

// deps is what a controller is built from.
type deps struct {
	cfg     Config
	cs      *clientset.Set
	inf     *informers
	events  *record.Recorder
	metrics *controller.Metrics
	log     *zap.Logger
}

// runner is a built controller.
type runner interface {
	Run(ctx context.Context, workers int)
}

// idle is a controller turned off by its flag.
type idle struct{}

func (idle) Run(ctx context.Context, _ int) { <-ctx.Done() }

type loop struct {
	name string
	run  runner
}

// registry is the one list of controllers, by name.
var registry = map[string]func(d deps) (runner, error){
	nodelifecycle.Name: func(d deps) (runner, error) {
		return nodelifecycle.New(nodelifecycle.Config{
			GracePeriod: d.cfg.NodeMonitorGracePeriod, DefaultTolerationSeconds: d.cfg.DefaultTolerationSeconds,
		}, d.cs, d.inf.nodes, d.inf.leases, d.inf.pods, d.events, d.metrics, d.log.Named(nodelifecycle.Name))
	},
	nodeipam.Name: func(d deps) (runner, error) {
		if !d.cfg.AllocateNodeCIDRs {
			return idle{}, nil
		}
		return nodeipam.New(netip.MustParsePrefix(d.cfg.ClusterCIDR), d.cfg.NodeCIDRMaskSize, d.cs, d.inf.nodes, d.events, d.metrics, d.log.Named(nodeipam.Name))
	},
	cronjob.Name: func(d deps) (runner, error) {
		return cronjob.New(d.cs, d.inf.cronJobs, d.inf.jobs, d.cfg.Now, d.events, d.metrics, d.log.Named(cronjob.Name))
	},
	job.Name: func(d deps) (runner, error) {
		return job.New(d.cs, d.inf.jobs, d.inf.pods, d.cfg.JobBackoff, d.events, d.metrics, d.log.Named(job.Name))
	},
	namespace.Name: func(d deps) (runner, error) {
		return namespace.New(d.cs, d.inf.namespaces, namespace.Caches{
			CronJobs: d.inf.cronJobs, Deployments: d.inf.deployments, Jobs: d.inf.jobs, ReplicaSets: d.inf.replicaSets, Pods: d.inf.pods,
		}, d.events, d.metrics, d.log.Named(namespace.Name))
	},
	gc.Name: func(d deps) (runner, error) {
		return gc.New([]gc.Kind{
			gc.NewKind("apps/v1", "Deployment", d.inf.deployments, d.cs.Deployments()),
			gc.NewKind("apps/v1", "ReplicaSet", d.inf.replicaSets, d.cs.ReplicaSets()),
			gc.NewKind("v1", "Pod", d.inf.pods, d.cs.Pods()),
			gc.NewKind("batch/v1", "Job", d.inf.jobs, d.cs.Jobs()),
			gc.NewKind("batch/v1", "CronJob", d.inf.cronJobs, d.cs.CronJobs()),
		}, d.events, d.metrics, d.log.Named(gc.Name))
	},
	deployment.Name: func(d deps) (runner, error) {
		return deployment.New(d.cs, d.inf.deployments, d.inf.replicaSets, d.inf.pods, d.events, d.metrics, d.log.Named(deployment.Name))
	},
	bootstrapsigner.Name: func(d deps) (runner, error) {
		return bootstrapsigner.New(d.cs, d.inf.bootstrapTokens, d.inf.clusterInfo, d.cfg.Now, d.metrics, d.log.Named(bootstrapsigner.Name))
	},
	csrapproving.Name: func(d deps) (runner, error) {
		return csrapproving.New(d.cs, d.inf.csrs, d.metrics, d.log.Named(csrapproving.Name))
	},
	csrsigning.Name: func(d deps) (runner, error) {
		if d.cfg.ClusterSigningCertFile == "" {
			return idle{}, nil
		}
		ca, err := csrsigning.LoadCA(d.cfg.ClusterSigningCertFile, d.cfg.ClusterSigningKeyFile)
		if err != nil {
			return nil, err
		}
		return csrsigning.New(d.cs, d.inf.csrs, ca, d.cfg.ClusterSigningDuration, d.metrics, d.log.Named(csrsigning.Name))
	},
	tokencleaner.Name: func(d deps) (runner, error) {
		return tokencleaner.New(d.cs, d.inf.bootstrapTokens, d.cfg.Now, d.metrics, d.log.Named(tokencleaner.Name))
	},
	endpoint.Name: func(d deps) (runner, error) {
		return endpoint.New(d.cs, d.inf.services, d.inf.pods, d.inf.endpoints, d.events, d.metrics, d.log.Named(endpoint.Name))
	},
	replicaset.Name: func(d deps) (runner, error) {
		return replicaset.New(d.cs, d.inf.replicaSets, d.inf.pods, d.events, d.metrics, d.log.Named(replicaset.Name))
	},
}

// Names lists the controllers, sorted.
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// build constructs the enabled controllers; they add their informer
// handlers, so build runs before the informers.
func build(d deps) ([]loop, error) {
	var out []loop
	for _, name := range Names() {
		if !d.cfg.enabled(name) {
			continue
		}
		r, err := registry[name](d)
		if err != nil {
			return nil, fmt.Errorf("controller %s: %w", name, err)
		}
		out = append(out, loop{name: name, run: r})
	}
	return out, nil
}

func names(loops []loop) []string {
	var out []string
	for _, l := range loops {
		out = append(out, l.name)
	}
	return out
}
