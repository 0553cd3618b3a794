package app

import (
	"context"
	"errors"
	"sync"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"go.uber.org/zap"
)

// nodeLeaseNamespace holds the kubelets' heartbeat Leases.
const nodeLeaseNamespace = "kube-node-lease"

// informers are the caches the controllers share: one list+watch per kind.
type informers struct {
	pods        *informer.Informer[*corev1.Pod]
	replicaSets *informer.Informer[*appsv1.ReplicaSet]
	deployments *informer.Informer[*appsv1.Deployment]
	jobs        *informer.Informer[*batchv1.Job]
	cronJobs    *informer.Informer[*batchv1.CronJob]
	nodes       *informer.Informer[*corev1.Node]
	leases      *informer.Informer[*coordinationv1.Lease]
	namespaces  *informer.Informer[*corev1.Namespace]
	// bootstrapTokens are the bootstrap-token Secrets of kube-system.
	bootstrapTokens *informer.Informer[*corev1.Secret]
	// clusterInfo is the kube-public/cluster-info ConfigMap.
	clusterInfo *informer.Informer[*corev1.ConfigMap]
	csrs        *informer.Informer[*certificatesv1.CertificateSigningRequest]
	services    *informer.Informer[*corev1.Service]
	endpoints   *informer.Informer[*corev1.Endpoints]
}

// waiter is the part of an informer runLoops needs.
type waiter interface {
	Run(ctx context.Context)
	HasSynced() bool
	WaitForSync(ctx context.Context) bool
}

func newInformers(cs *clientset.Set, log *zap.Logger) *informers {
	return &informers{
		pods:        informer.New(cs.Pods(), informer.Options{Logger: log.Named("pods")}),
		replicaSets: informer.New(cs.ReplicaSets(), informer.Options{Logger: log.Named("replicasets")}),
		deployments: informer.New(cs.Deployments(), informer.Options{Logger: log.Named("deployments")}),
		jobs:        informer.New(cs.Jobs(), informer.Options{Logger: log.Named("jobs")}),
		cronJobs:    informer.New(cs.CronJobs(), informer.Options{Logger: log.Named("cronjobs")}),
		nodes:       informer.New(cs.Nodes(), informer.Options{Logger: log.Named("nodes")}),
		leases:      informer.New(cs.Leases(), informer.Options{Namespace: nodeLeaseNamespace, Logger: log.Named("leases")}),
		namespaces:  informer.New(cs.Namespaces(), informer.Options{Logger: log.Named("namespaces")}),
		bootstrapTokens: informer.New(cs.Secrets(), informer.Options{Namespace: bootstraptoken.Namespace,
			FieldSelector: "type=" + bootstraptoken.SecretType, Logger: log.Named("bootstrap-tokens")}),
		clusterInfo: informer.New(cs.ConfigMaps(), informer.Options{Namespace: clusterinfo.Namespace,
			FieldSelector: "metadata.name=" + clusterinfo.Name, Logger: log.Named("cluster-info")}),
		csrs:      informer.New(cs.CertificateSigningRequests(), informer.Options{Logger: log.Named("certificatesigningrequests")}),
		services:  informer.New(cs.Services(), informer.Options{Logger: log.Named("services")}),
		endpoints: informer.New(cs.Endpoints(), informer.Options{Logger: log.Named("endpoints")}),
	}
}

func (i *informers) all() []waiter {
	return []waiter{i.pods, i.replicaSets, i.deployments, i.jobs, i.cronJobs, i.nodes, i.leases, i.namespaces, i.bootstrapTokens, i.clusterInfo, i.csrs, i.services, i.endpoints}
}

// run runs every informer until ctx ends. They run whether or not this
// replica leads, so that a new leader starts with warm caches.
func (i *informers) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range i.all() {
		wg.Go(func() { w.Run(ctx) })
	}
	wg.Wait()
}

func (i *informers) waitForSync(ctx context.Context) bool {
	for _, w := range i.all() {
		if !w.WaitForSync(ctx) {
			return false
		}
	}
	return true
}

// synced is the readiness check.
func (i *informers) synced(context.Context) error {
	for _, w := range i.all() {
		if !w.HasSynced() {
			return errors.New("informers not synced")
		}
	}
	return nil
}
