package publish

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// services is a one-object Service store; conflicts fails that many
// updates with Aborted first, as a concurrent writer would cause.
type services struct {
	corev1.ServiceServiceClient // unused methods panic
	obj                         *corev1.Service
	conflicts, creates, updates int
}

func (s *services) Get(context.Context, *metav1.GetOptions, ...grpc.CallOption) (*corev1.Service, error) {
	if s.obj == nil {
		return nil, status.Error(codes.NotFound, "not found")
	}
	return proto.Clone(s.obj).(*corev1.Service), nil
}

func (s *services) Create(_ context.Context, o *corev1.Service, _ ...grpc.CallOption) (*corev1.Service, error) {
	s.creates++
	s.obj = proto.Clone(o).(*corev1.Service)
	return o, nil
}

func (s *services) Update(_ context.Context, o *corev1.Service, _ ...grpc.CallOption) (*corev1.Service, error) {
	if s.conflicts > 0 {
		s.conflicts--
		return nil, status.Error(codes.Aborted, "stale resourceVersion")
	}
	s.updates++
	s.obj = proto.Clone(o).(*corev1.Service)
	return o, nil
}

// endpoints is a one-object Endpoints store that checks resourceVersions
// as the apiserver does; beforeUpdate, when set, runs once before the
// next Update is applied (another writer getting in first).
type endpoints struct {
	corev1.EndpointsServiceClient
	mu               sync.Mutex
	obj              *corev1.Endpoints
	rv               int
	creates, updates int
	beforeUpdate     func()
}

func (e *endpoints) Get(context.Context, *metav1.GetOptions, ...grpc.CallOption) (*corev1.Endpoints, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.obj == nil {
		return nil, status.Error(codes.NotFound, "not found")
	}
	return proto.Clone(e.obj).(*corev1.Endpoints), nil
}

func (e *endpoints) Create(_ context.Context, o *corev1.Endpoints, _ ...grpc.CallOption) (*corev1.Endpoints, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.obj != nil {
		return nil, status.Error(codes.AlreadyExists, "exists")
	}
	e.creates++
	e.store(o)
	return proto.Clone(e.obj).(*corev1.Endpoints), nil
}

func (e *endpoints) Update(_ context.Context, o *corev1.Endpoints, _ ...grpc.CallOption) (*corev1.Endpoints, error) {
	if f := e.beforeUpdate; f != nil {
		e.beforeUpdate = nil
		f()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.obj == nil {
		return nil, status.Error(codes.NotFound, "not found")
	}
	if o.GetMetadata().GetResourceVersion() != e.obj.GetMetadata().GetResourceVersion() {
		return nil, status.Error(codes.Aborted, "stale resourceVersion")
	}
	e.updates++
	e.store(o)
	return proto.Clone(e.obj).(*corev1.Endpoints), nil
}

// store keeps a copy of o with the next resourceVersion; e.mu is held.
func (e *endpoints) store(o *corev1.Endpoints) {
	e.rv++
	e.obj = proto.Clone(o).(*corev1.Endpoints)
	if e.obj.Metadata == nil {
		e.obj.Metadata = &metav1.ObjectMeta{}
	}
	e.obj.Metadata.ResourceVersion = strconv.Itoa(e.rv)
}

// snapshot returns the stored subsets and the number of writes.
func (e *endpoints) snapshot() ([]*corev1.EndpointSubset, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return proto.Clone(e.obj).(*corev1.Endpoints).GetSubsets(), e.creates + e.updates
}

var spec = Spec{ServiceIP: "10.96.0.10", Address: "10.244.0.1", Port: 53}

func TestEnsure(t *testing.T) {
	for _, tc := range []struct {
		name             string
		svc              func(*corev1.Service) // changes the stored Service; nil: none stored
		conflicts        int
		creates, updates int
		err              string
		wantTargetPort   float64
	}{
		{name: "created", creates: 1, wantTargetPort: 53},
		{name: "already right: no write", svc: func(*corev1.Service) {}, wantTargetPort: 53},
		{name: "defaulted fields kept, no write", svc: func(s *corev1.Service) {
			s.Spec.SessionAffinity, s.Spec.ClusterIps = "None", []string{"10.96.0.10"}
		}, wantTargetPort: 53},
		{name: "ports changed: put back through conflicts", svc: func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort.Kind = nil
			s.Spec.Ports = s.Spec.Ports[:1]
			s.Spec.Selector = map[string]string{"app": "x"}
		}, conflicts: 2, updates: 1, wantTargetPort: 53},
		{name: "other clusterIP reported", svc: func(s *corev1.Service) { s.Spec.ClusterIp = "10.96.0.11" }, err: `clusterIP "10.96.0.11"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svcs := &services{conflicts: tc.conflicts}
			if tc.svc != nil {
				want, _ := Desired(spec)
				tc.svc(want)
				svcs.obj = want
			}
			eps := &endpoints{}
			p := &Publisher{Services: svcs, Endpoints: eps, Spec: spec}
			err := p.Ensure(context.Background())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "kube-system/kube-dns") {
					t.Fatalf("Ensure = %v, want an error naming the Service and %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if svcs.creates != tc.creates || svcs.updates != tc.updates {
				t.Fatalf("%d creates, %d updates; want %d, %d", svcs.creates, svcs.updates, tc.creates, tc.updates)
			}
			s := svcs.obj.GetSpec()
			if s.GetClusterIp() != "10.96.0.10" || len(s.GetSelector()) != 0 || len(s.GetPorts()) != 2 ||
				s.GetPorts()[0].GetName() != "dns" || s.GetPorts()[0].GetProtocol() != "UDP" ||
				s.GetPorts()[1].GetName() != "dns-tcp" || s.GetPorts()[1].GetProtocol() != "TCP" ||
				s.GetPorts()[1].GetTargetPort().GetNumberValue() != tc.wantTargetPort {
				t.Fatalf("service spec = %v", s)
			}
			ss := eps.obj.GetSubsets()
			if eps.creates != 1 || len(ss) != 1 || ss[0].GetAddresses()[0].GetIp() != "10.244.0.1" || ss[0].GetPorts()[0].GetPort() != 53 {
				t.Fatalf("endpoints = %v after %d creates", eps.obj, eps.creates)
			}
			// A second pass finds everything right and writes nothing.
			before := svcs.updates + svcs.creates + eps.updates + eps.creates
			if err := p.Ensure(context.Background()); err != nil {
				t.Fatal(err)
			}
			if after := svcs.updates + svcs.creates + eps.updates + eps.creates; after != before {
				t.Fatalf("a second Ensure wrote %d times", after-before)
			}
		})
	}
}
