package rest

import (
	"context"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"google.golang.org/grpc"
)

// gateway is one kind's generated grpc-gateway registration.
type gateway struct {
	group, resource string
	register        func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
}

// gateways is the one list of generated REST handlers; a test checks that it
// covers every kind of machinery/scheme.
var gateways = []gateway{
	{"", "namespaces", corev1.RegisterNamespaceServiceHandler},
	{"", "nodes", corev1.RegisterNodeServiceHandler},
	{"", "pods", corev1.RegisterPodServiceHandler},
	{"", "services", corev1.RegisterServiceServiceHandler},
	{"", "endpoints", corev1.RegisterEndpointsServiceHandler},
	{"", "secrets", corev1.RegisterSecretServiceHandler},
	{"", "configmaps", corev1.RegisterConfigMapServiceHandler},
	{"", "serviceaccounts", corev1.RegisterServiceAccountServiceHandler},
	{"", "events", corev1.RegisterEventServiceHandler},
	{"coordination.k8s.io", "leases", coordinationv1.RegisterLeaseServiceHandler},
	{"apps", "replicasets", appsv1.RegisterReplicaSetServiceHandler},
	{"apps", "deployments", appsv1.RegisterDeploymentServiceHandler},
	{"batch", "jobs", batchv1.RegisterJobServiceHandler},
	{"batch", "cronjobs", batchv1.RegisterCronJobServiceHandler},
	{"certificates.k8s.io", "certificatesigningrequests", certificatesv1.RegisterCertificateSigningRequestServiceHandler},
	{"rbac.authorization.k8s.io", "roles", rbacv1.RegisterRoleServiceHandler},
	{"rbac.authorization.k8s.io", "clusterroles", rbacv1.RegisterClusterRoleServiceHandler},
	{"rbac.authorization.k8s.io", "rolebindings", rbacv1.RegisterRoleBindingServiceHandler},
	{"rbac.authorization.k8s.io", "clusterrolebindings", rbacv1.RegisterClusterRoleBindingServiceHandler},
}
