package fake

import (
	"fmt"
	"net"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Server is a gRPC server on 127.0.0.1 serving Pods, Leases, Nodes,
// Jobs, CronJobs, ReplicaSets, Deployments, Services and Endpoints from
// in-memory Stores.
// Another kind takes a Store field, a server type like podServer and one
// Register line (kinds.go).
type Server struct {
	Pods        *Store[*corev1.Pod]
	Leases      *Store[*coordinationv1.Lease]
	Nodes       *Store[*corev1.Node]
	Jobs        *Store[*batchv1.Job]
	CronJobs    *Store[*batchv1.CronJob]
	ReplicaSets *Store[*appsv1.ReplicaSet]
	Deployments *Store[*appsv1.Deployment]
	Services    *Store[*corev1.Service]
	Endpoints   *Store[*corev1.Endpoints]
	// Addr is the host:port the server listens on.
	Addr string

	srv *grpc.Server
}

type podServer struct {
	*service[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent]
	unimplementedPods
}

type unimplementedPods struct {
	corev1.UnimplementedPodServiceServer
}

type leaseServer struct {
	*service[*coordinationv1.Lease, *coordinationv1.LeaseList, coordinationv1.LeaseWatchEvent]
	unimplementedLeases
}

type unimplementedLeases struct {
	coordinationv1.UnimplementedLeaseServiceServer
}

// Start serves a new empty Server on 127.0.0.1 at a free port.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake: listen: %w", err)
	}
	s := &Server{
		Pods:   NewStore[*corev1.Pod](),
		Leases: NewStore[*coordinationv1.Lease](),
		Addr:   lis.Addr().String(),
		srv:    grpc.NewServer(),
	}
	corev1.RegisterPodServiceServer(s.srv, podServer{service: &service[*corev1.Pod, *corev1.PodList, corev1.PodWatchEvent]{
		store: s.Pods,
		newList: func(items []*corev1.Pod, m *metav1.ListMeta) *corev1.PodList {
			return &corev1.PodList{ApiVersion: "v1", Kind: "PodList", Metadata: m, Items: items}
		},
		newEvent: func(typ string, o *corev1.Pod) *corev1.PodWatchEvent {
			return &corev1.PodWatchEvent{Type: typ, Object: o}
		},
	}})
	coordinationv1.RegisterLeaseServiceServer(s.srv, leaseServer{service: &service[*coordinationv1.Lease, *coordinationv1.LeaseList, coordinationv1.LeaseWatchEvent]{
		store: s.Leases,
		newList: func(items []*coordinationv1.Lease, m *metav1.ListMeta) *coordinationv1.LeaseList {
			return &coordinationv1.LeaseList{ApiVersion: "coordination.k8s.io/v1", Kind: "LeaseList", Metadata: m, Items: items}
		},
		newEvent: func(typ string, o *coordinationv1.Lease) *coordinationv1.LeaseWatchEvent {
			return &coordinationv1.LeaseWatchEvent{Type: typ, Object: o}
		},
	}})
	s.registerKinds(s.srv)
	go s.srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called
	return s, nil
}

// Dial returns a plaintext client connection to the server.
func (s *Server) Dial(opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(s.Addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
}

// Stop closes every connection and stream and stops serving.
func (s *Server) Stop() { s.srv.Stop() }
