// Package app runs the scheduler: informers on nodes and pods feeding the
// cache and the scheduling queue, the scheduling loop with its plugins,
// asynchronous binding through pods/binding, status conditions and Events
// for pods that do not fit, optional leader election, and the metrics
// listener.
package app

import (
	"errors"
	"flag"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/services/scheduler/queue"
)

// Config is everything the scheduler needs to run.
type Config struct {
	// Kubeconfig is the kubeconfig file to reach the apiserver with;
	// empty means $KUBECONFIG, then ~/.kube/config.
	Kubeconfig string
	// MetricsAddress serves /metrics, /healthz and /readyz; empty serves nothing.
	MetricsAddress string
	// SchedulerName is the spec.schedulerName of the pods this scheduler
	// places; it also names it in Events.
	SchedulerName string
	// LeaderElect runs the scheduling loop only while holding the Lease
	// LeaseNamespace/LeaseName, so that replicas can stand by.
	LeaderElect               bool
	LeaseNamespace, LeaseName string
	// LeaseDuration, RenewDeadline and RetryPeriod pace the election.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Identity names this replica in the Lease; hostname_random when empty.
	Identity string
	// Parallelism is the number of goroutines filtering and scoring nodes.
	Parallelism int
	// PercentageOfNodesToScore is the share of nodes found feasible after
	// which filtering stops; 0 adapts it to the cluster's size.
	PercentageOfNodesToScore int
	// Queue tunes the scheduling queue's backoff and timeouts (tests
	// shorten them; no flags).
	Queue queue.Options
	// Registry, when set, receives the metrics instead of a registry of
	// the scheduler's own (an in-process cluster, tests).
	Registry *prometheus.Registry
	// OnReady, when set, is called once the informers have synced and the
	// scheduling loop starts.
	OnReady func()
}

// DefaultConfig returns the defaults the flags start from.
func DefaultConfig() Config {
	return Config{
		MetricsAddress: "127.0.0.1:10259",
		SchedulerName:  "default-scheduler",
		LeaseNamespace: "kube-system",
		LeaseName:      "tug-scheduler",
		LeaseDuration:  15 * time.Second,
		RenewDeadline:  10 * time.Second,
		RetryPeriod:    2 * time.Second,
		Parallelism:    16,
	}
}

// AddFlags registers the scheduler's flags.
func (c *Config) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file to reach the apiserver (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.MetricsAddress, "metrics-address", c.MetricsAddress, "address serving /metrics, /healthz and /readyz (empty: none)")
	fs.StringVar(&c.SchedulerName, "scheduler-name", c.SchedulerName, "spec.schedulerName of the pods to schedule")
	fs.BoolVar(&c.LeaderElect, "leader-elect", c.LeaderElect, "schedule only while holding the leader lease")
	fs.StringVar(&c.LeaseNamespace, "leader-elect-resource-namespace", c.LeaseNamespace, "namespace of the leader lease")
	fs.StringVar(&c.LeaseName, "leader-elect-resource-name", c.LeaseName, "name of the leader lease")
	fs.DurationVar(&c.LeaseDuration, "leader-elect-lease-duration", c.LeaseDuration, "how long a lease holds without renewal")
	fs.DurationVar(&c.RenewDeadline, "leader-elect-renew-deadline", c.RenewDeadline, "how long the leader retries renewing before it stops leading")
	fs.DurationVar(&c.RetryPeriod, "leader-elect-retry-period", c.RetryPeriod, "pause between attempts to acquire or renew the lease")
	fs.IntVar(&c.Parallelism, "parallelism", c.Parallelism, "goroutines filtering and scoring nodes for one pod")
	fs.IntVar(&c.PercentageOfNodesToScore, "percentage-of-nodes-to-score", c.PercentageOfNodesToScore,
		"share of nodes to find feasible before filtering stops, at least 100 nodes (0: adaptive, 50% down to 5% in large clusters)")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.SchedulerName == "":
		return errors.New("--scheduler-name is required")
	case c.Parallelism < 1:
		return errors.New("--parallelism must be at least 1")
	case c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100:
		return errors.New("--percentage-of-nodes-to-score must be within 0..100")
	case c.LeaderElect && (c.LeaseNamespace == "" || c.LeaseName == ""):
		return errors.New("--leader-elect needs --leader-elect-resource-namespace and --leader-elect-resource-name")
	}
	return nil
}
