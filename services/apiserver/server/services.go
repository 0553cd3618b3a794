package server

import (
	"context"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"google.golang.org/grpc"
)

// Register adds every kind's gRPC service to s, which must be built with
// CodecOption: malformed requests are then answered as InvalidArgument
// (interceptors.go). kubelets reaches the nodes' kubelets for pods/log and
// pods/exec; tokens signs serviceaccounts/token (nil: refused as
// unavailable). Adding a kind means one line here (and its entry in
// machinery/scheme).
func Register(s grpc.ServiceRegistrar, reg *registry.Registry, kubelets *kubelet.Pool, tokens *authn.ServiceAccounts) {
	s = decodeErrors{s}
	corev1.RegisterNamespaceServiceServer(s, newHandler[*corev1.Namespace, *corev1.NamespaceList, corev1.NamespaceWatchEvent](reg.Resource("namespaces")))
	corev1.RegisterNodeServiceServer(s, newHandler[*corev1.Node, *corev1.NodeList, corev1.NodeWatchEvent](reg.Resource("nodes")))
	corev1.RegisterPodServiceServer(s, &podService{
		handler:  newHandler[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent](reg.Resource("pods")),
		nodes:    reg.Resource("nodes"),
		kubelets: kubelets,
	})
	corev1.RegisterServiceServiceServer(s, newHandler[*corev1.Service, *corev1.ServiceList, corev1.ServiceWatchEvent](reg.Resource("services")))
	corev1.RegisterEndpointsServiceServer(s, newHandler[*corev1.Endpoints, *corev1.EndpointsList, corev1.EndpointsWatchEvent](reg.Resource("endpoints")))
	corev1.RegisterSecretServiceServer(s, newHandler[*corev1.Secret, *corev1.SecretList, corev1.SecretWatchEvent](reg.Resource("secrets")))
	corev1.RegisterConfigMapServiceServer(s, newHandler[*corev1.ConfigMap, *corev1.ConfigMapList, corev1.ConfigMapWatchEvent](reg.Resource("configmaps")))
	corev1.RegisterServiceAccountServiceServer(s, &serviceAccountService{
		handler: newHandler[*corev1.ServiceAccount, *corev1.ServiceAccountList, corev1.ServiceAccountWatchEvent](reg.Resource("serviceaccounts")),
		tokens:  tokens,
	})
	corev1.RegisterEventServiceServer(s, newHandler[*corev1.Event, *corev1.EventList, corev1.EventWatchEvent](reg.Resource("events")))
	coordinationv1.RegisterLeaseServiceServer(s, newHandler[*coordinationv1.Lease, *coordinationv1.LeaseList, coordinationv1.LeaseWatchEvent](reg.Resource("leases")))
	appsv1.RegisterReplicaSetServiceServer(s, newReplicaSetScaler(newHandler[*appsv1.ReplicaSet, *appsv1.ReplicaSetList, appsv1.ReplicaSetWatchEvent](reg.Resource("replicasets"))))
	appsv1.RegisterDeploymentServiceServer(s, newDeploymentScaler(newHandler[*appsv1.Deployment, *appsv1.DeploymentList, appsv1.DeploymentWatchEvent](reg.Resource("deployments"))))
	batchv1.RegisterJobServiceServer(s, newHandler[*batchv1.Job, *batchv1.JobList, batchv1.JobWatchEvent](reg.Resource("jobs")))
	batchv1.RegisterCronJobServiceServer(s, newHandler[*batchv1.CronJob, *batchv1.CronJobList, batchv1.CronJobWatchEvent](reg.Resource("cronjobs")))
	certificatesv1.RegisterCertificateSigningRequestServiceServer(s, &csrService{newHandler[*csr, *certificatesv1.CertificateSigningRequestList, certificatesv1.CertificateSigningRequestWatchEvent](reg.Resource("certificatesigningrequests"))})
	rbacv1.RegisterRoleServiceServer(s, newHandler[*rbacv1.Role, *rbacv1.RoleList, rbacv1.RoleWatchEvent](reg.Resource("roles")))
	rbacv1.RegisterClusterRoleServiceServer(s, newHandler[*rbacv1.ClusterRole, *rbacv1.ClusterRoleList, rbacv1.ClusterRoleWatchEvent](reg.Resource("clusterroles")))
	rbacv1.RegisterRoleBindingServiceServer(s, newHandler[*rbacv1.RoleBinding, *rbacv1.RoleBindingList, rbacv1.RoleBindingWatchEvent](reg.Resource("rolebindings")))
	rbacv1.RegisterClusterRoleBindingServiceServer(s, newHandler[*rbacv1.ClusterRoleBinding, *rbacv1.ClusterRoleBindingList, rbacv1.ClusterRoleBindingWatchEvent](reg.Resource("clusterrolebindings")))
}

// podService adds the pods/binding, pods/log and pods/exec subresources.
type podService struct {
	*handler[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent]
	// nodes is read to find a pod's kubelet.
	nodes *registry.Resource
	// kubelets holds the connections to the kubelets.
	kubelets *kubelet.Pool
}

// Bind assigns a pod to the node named by the binding's target.
func (p *podService) Bind(ctx context.Context, b *corev1.Binding) (*metav1.Status, error) {
	ns := b.GetMetadata().GetNamespace()
	if ns == "" {
		ns = "default"
	}
	if err := p.res.Bind(ctx, ns, b.GetMetadata().GetName(), b.GetTarget().GetName()); err != nil {
		return nil, err
	}
	return &metav1.Status{ApiVersion: "v1", Kind: "Status", Metadata: &metav1.ListMeta{}, Status: "Success", Code: 201}, nil
}
