// Package clientset bundles the generated gRPC client of every API kind
// behind one value built from a single connection.
package clientset

import (
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/grpc"
)

// Set holds one typed client per kind, all sharing one connection.
type Set struct {
	conn        grpc.ClientConnInterface
	namespaces  corev1.NamespaceServiceClient
	nodes       corev1.NodeServiceClient
	pods        corev1.PodServiceClient
	services    corev1.ServiceServiceClient
	endpoints   corev1.EndpointsServiceClient
	secrets     corev1.SecretServiceClient
	configMaps  corev1.ConfigMapServiceClient
	events      corev1.EventServiceClient
	leases      coordinationv1.LeaseServiceClient
	replicaSets appsv1.ReplicaSetServiceClient
	deployments appsv1.DeploymentServiceClient
	jobs        batchv1.JobServiceClient
	cronJobs    batchv1.CronJobServiceClient

	roles               rbacv1.RoleServiceClient
	clusterRoles        rbacv1.ClusterRoleServiceClient
	roleBindings        rbacv1.RoleBindingServiceClient
	clusterRoleBindings rbacv1.ClusterRoleBindingServiceClient

	csrs certificatesv1.CertificateSigningRequestServiceClient

	serviceAccounts corev1.ServiceAccountServiceClient
}

// New returns the clients of every kind over conn.
func New(conn grpc.ClientConnInterface) *Set {
	return &Set{
		conn:        conn,
		namespaces:  corev1.NewNamespaceServiceClient(conn),
		nodes:       corev1.NewNodeServiceClient(conn),
		pods:        corev1.NewPodServiceClient(conn),
		services:    corev1.NewServiceServiceClient(conn),
		endpoints:   corev1.NewEndpointsServiceClient(conn),
		secrets:     corev1.NewSecretServiceClient(conn),
		configMaps:  corev1.NewConfigMapServiceClient(conn),
		events:      corev1.NewEventServiceClient(conn),
		leases:      coordinationv1.NewLeaseServiceClient(conn),
		replicaSets: appsv1.NewReplicaSetServiceClient(conn),
		deployments: appsv1.NewDeploymentServiceClient(conn),
		jobs:        batchv1.NewJobServiceClient(conn),
		cronJobs:    batchv1.NewCronJobServiceClient(conn),

		roles:               rbacv1.NewRoleServiceClient(conn),
		clusterRoles:        rbacv1.NewClusterRoleServiceClient(conn),
		roleBindings:        rbacv1.NewRoleBindingServiceClient(conn),
		clusterRoleBindings: rbacv1.NewClusterRoleBindingServiceClient(conn),

		csrs: certificatesv1.NewCertificateSigningRequestServiceClient(conn),

		serviceAccounts: corev1.NewServiceAccountServiceClient(conn),
	}
}

// Conn returns the connection the clients share.
func (s *Set) Conn() grpc.ClientConnInterface { return s.conn }

// Namespaces returns the client of core/v1 Namespaces.
func (s *Set) Namespaces() corev1.NamespaceServiceClient { return s.namespaces }

// Nodes returns the client of core/v1 Nodes.
func (s *Set) Nodes() corev1.NodeServiceClient { return s.nodes }

// Pods returns the client of core/v1 Pods.
func (s *Set) Pods() corev1.PodServiceClient { return s.pods }

// Services returns the client of core/v1 Services.
func (s *Set) Services() corev1.ServiceServiceClient { return s.services }

// Endpoints returns the client of core/v1 Endpoints.
func (s *Set) Endpoints() corev1.EndpointsServiceClient { return s.endpoints }

// Secrets returns the client of core/v1 Secrets.
func (s *Set) Secrets() corev1.SecretServiceClient { return s.secrets }

// ConfigMaps returns the client of core/v1 ConfigMaps.
func (s *Set) ConfigMaps() corev1.ConfigMapServiceClient { return s.configMaps }

// ServiceAccounts returns the client of core/v1 ServiceAccounts and their tokens.
func (s *Set) ServiceAccounts() corev1.ServiceAccountServiceClient { return s.serviceAccounts }

// Events returns the client of core/v1 Events.
func (s *Set) Events() corev1.EventServiceClient { return s.events }

// Leases returns the client of coordination/v1 Leases.
func (s *Set) Leases() coordinationv1.LeaseServiceClient { return s.leases }

// ReplicaSets returns the client of apps/v1 ReplicaSets.
func (s *Set) ReplicaSets() appsv1.ReplicaSetServiceClient { return s.replicaSets }

// Deployments returns the client of apps/v1 Deployments.
func (s *Set) Deployments() appsv1.DeploymentServiceClient { return s.deployments }

// Jobs returns the client of batch/v1 Jobs.
func (s *Set) Jobs() batchv1.JobServiceClient { return s.jobs }

// CronJobs returns the client of batch/v1 CronJobs.
func (s *Set) CronJobs() batchv1.CronJobServiceClient { return s.cronJobs }

// Roles is the client of rbac.authorization.k8s.io/v1 Roles.
func (s *Set) Roles() rbacv1.RoleServiceClient { return s.roles }

// ClusterRoles is the client of ClusterRoles.
func (s *Set) ClusterRoles() rbacv1.ClusterRoleServiceClient { return s.clusterRoles }

// RoleBindings is the client of RoleBindings.
func (s *Set) RoleBindings() rbacv1.RoleBindingServiceClient { return s.roleBindings }

// ClusterRoleBindings is the client of ClusterRoleBindings.
func (s *Set) ClusterRoleBindings() rbacv1.ClusterRoleBindingServiceClient {
	return s.clusterRoleBindings
}

// CertificateSigningRequests is the client of CertificateSigningRequests.
func (s *Set) CertificateSigningRequests() certificatesv1.CertificateSigningRequestServiceClient {
	return s.csrs
}
