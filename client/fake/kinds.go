package fake

import (
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
)

// The kinds served besides Pods and Leases: what the controllers watch.

type nodeServer struct {
	*service[*corev1.Node, *corev1.NodeList, corev1.NodeWatchEvent]
	unimplementedNodes
}

type unimplementedNodes struct {
	corev1.UnimplementedNodeServiceServer
}

type jobServer struct {
	*service[*batchv1.Job, *batchv1.JobList, batchv1.JobWatchEvent]
	unimplementedJobs
}

type unimplementedJobs struct {
	batchv1.UnimplementedJobServiceServer
}

type cronJobServer struct {
	*service[*batchv1.CronJob, *batchv1.CronJobList, batchv1.CronJobWatchEvent]
	unimplementedCronJobs
}

type unimplementedCronJobs struct {
	batchv1.UnimplementedCronJobServiceServer
}

type replicaSetServer struct {
	*service[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent]
	unimplementedReplicaSets
}

type unimplementedReplicaSets struct {
	appsv1.UnimplementedReplicaSetServiceServer
}

type deploymentServer struct {
	*service[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent]
	unimplementedDeployments
}

type unimplementedDeployments struct {
	appsv1.UnimplementedDeploymentServiceServer
}

type serviceServer struct {
	*service[*corev1.Service, *corev1.ServiceList, corev1.ServiceWatchEvent]
	unimplementedServices
}

type unimplementedServices struct {
	corev1.UnimplementedServiceServiceServer
}

type endpointsServer struct {
	*service[*corev1.Endpoints, *corev1.EndpointsList, corev1.EndpointsWatchEvent]
	unimplementedEndpoints
}

type unimplementedEndpoints struct {
	corev1.UnimplementedEndpointsServiceServer
}

func newService[T Object, L any, E any](store *Store[T], newList func([]T, *metav1.ListMeta) L, newEvent func(string, T) *E) *service[T, L, E] {
	return &service[T, L, E]{store: store, newList: newList, newEvent: newEvent}
}

// registerKinds serves s's Nodes, Jobs, CronJobs, ReplicaSets,
// Deployments, Services and Endpoints on srv.
func (s *Server) registerKinds(srv *grpc.Server) {
	s.Nodes = NewStore[*corev1.Node]()
	s.Jobs = NewStore[*batchv1.Job]()
	s.CronJobs = NewStore[*batchv1.CronJob]()
	s.ReplicaSets = NewStore[*appsv1.ReplicaSet]()
	s.Deployments = NewStore[*appsv1.Deployment]()
	s.Services = NewStore[*corev1.Service]()
	s.Endpoints = NewStore[*corev1.Endpoints]()
	corev1.RegisterServiceServiceServer(srv, serviceServer{service: newService(s.Services,
		func(items []*corev1.Service, m *metav1.ListMeta) *corev1.ServiceList {
			return &corev1.ServiceList{ApiVersion: "v1", Kind: "ServiceList", Metadata: m, Items: items}
		},
		func(typ string, o *corev1.Service) *corev1.ServiceWatchEvent {
			return &corev1.ServiceWatchEvent{Type: typ, Object: o}
		})})
	corev1.RegisterEndpointsServiceServer(srv, endpointsServer{service: newService(s.Endpoints,
		func(items []*corev1.Endpoints, m *metav1.ListMeta) *corev1.EndpointsList {
			return &corev1.EndpointsList{ApiVersion: "v1", Kind: "EndpointsList", Metadata: m, Items: items}
		},
		func(typ string, o *corev1.Endpoints) *corev1.EndpointsWatchEvent {
			return &corev1.EndpointsWatchEvent{Type: typ, Object: o}
		})})
	corev1.RegisterNodeServiceServer(srv, nodeServer{service: newService(s.Nodes,
		func(items []*corev1.Node, m *metav1.ListMeta) *corev1.NodeList {
			return &corev1.NodeList{ApiVersion: "v1", Kind: "NodeList", Metadata: m, Items: items}
		},
		func(typ string, o *corev1.Node) *corev1.NodeWatchEvent {
			return &corev1.NodeWatchEvent{Type: typ, Object: o}
		})})
	batchv1.RegisterJobServiceServer(srv, jobServer{service: newService(s.Jobs,
		func(items []*batchv1.Job, m *metav1.ListMeta) *batchv1.JobList {
			return &batchv1.JobList{ApiVersion: "batch/v1", Kind: "JobList", Metadata: m, Items: items}
		},
		func(typ string, o *batchv1.Job) *batchv1.JobWatchEvent {
			return &batchv1.JobWatchEvent{Type: typ, Object: o}
		})})
	batchv1.RegisterCronJobServiceServer(srv, cronJobServer{service: newService(s.CronJobs,
		func(items []*batchv1.CronJob, m *metav1.ListMeta) *batchv1.CronJobList {
			return &batchv1.CronJobList{ApiVersion: "batch/v1", Kind: "CronJobList", Metadata: m, Items: items}
		},
		func(typ string, o *batchv1.CronJob) *batchv1.CronJobWatchEvent {
			return &batchv1.CronJobWatchEvent{Type: typ, Object: o}
		})})
	appsv1.RegisterReplicaSetServiceServer(srv, replicaSetServer{service: newService(s.ReplicaSets,
		func(items []*appsv1.ReplicaSet, m *metav1.ListMeta) *appsv1.ReplicaSetList {
			return &appsv1.ReplicaSetList{ApiVersion: "apps/v1", Kind: "ReplicaSetList", Metadata: m, Items: items}
		},
		func(typ string, o *appsv1.ReplicaSet) *appsv1.ReplicaSetWatchEvent {
			return &appsv1.ReplicaSetWatchEvent{Type: typ, Object: o}
		})})
	appsv1.RegisterDeploymentServiceServer(srv, deploymentServer{service: newService(s.Deployments,
		func(items []*appsv1.Deployment, m *metav1.ListMeta) *appsv1.DeploymentList {
			return &appsv1.DeploymentList{ApiVersion: "apps/v1", Kind: "DeploymentList", Metadata: m, Items: items}
		},
		func(typ string, o *appsv1.Deployment) *appsv1.DeploymentWatchEvent {
			return &appsv1.DeploymentWatchEvent{Type: typ, Object: o}
		})})
}
