package allocator

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestAllocateExplicit: explicit cluster IPs and node ports are honoured
// when free and in range, refused with the field named otherwise, and a
// refused request leaves nothing allocated.
func TestAllocateExplicit(t *testing.T) {
	a := newServices(t, newStore(t), "10.96.0.0/24", "30000-30099")
	if _, err := a.Allocate(ctx(t), nil, svc("taken", "NodePort", "10.96.0.50", 30050)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		svc       *corev1.Service
		code      codes.Code
		contains  string
		wantIP    string
		wantPorts []int32
	}{
		{"explicit IP honoured", svc("a", "ClusterIP", "10.96.0.7"), codes.OK, "", "10.96.0.7", nil},
		{"first address on request", svc("k", "ClusterIP", "10.96.0.1"), codes.OK, "", "10.96.0.1", nil},
		{"IP outside the range", svc("b", "ClusterIP", "10.97.0.7"), codes.InvalidArgument, "spec.clusterIP: Invalid value: \"10.97.0.7\": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/24", "", nil},
		{"broadcast address", svc("b", "ClusterIP", "10.96.0.255"), codes.InvalidArgument, "not in the valid range", "", nil},
		{"IP taken", svc("c", "ClusterIP", "10.96.0.50"), codes.InvalidArgument, "spec.clusterIP: Invalid value: \"10.96.0.50\": provided IP is already allocated", "", nil},
		{"headless", svc("h", "ClusterIP", "None"), codes.OK, "", "None", nil},
		{"external name", &corev1.Service{Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "x.example"}}, codes.OK, "", "", nil},
		{"node ports explicit and allocated", svc("d", "NodePort", "10.96.0.30", 30010, 0), codes.OK, "", "", []int32{30010, -1}},
		{"node port out of range", svc("e", "NodePort", "10.96.0.8", 0, 31000), codes.InvalidArgument, "spec.ports[1].nodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30099", "", nil},
		{"node port taken", svc("f", "LoadBalancer", "", 30050), codes.InvalidArgument, "spec.ports[0].nodePort: Invalid value: 30050: provided port is already allocated", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ipsBefore, portsBefore := usedIPs(t, a), usedPorts(t, a)
			_, err := a.Allocate(ctx(t), nil, tt.svc)
			if tt.code != codes.OK {
				wantAPICode(t, err, tt.code, tt.contains)
				if ips, ports := usedIPs(t, a), usedPorts(t, a); !slices.Equal(ips, ipsBefore) || !slices.Equal(ports, portsBefore) {
					t.Fatalf("a refused request changed the bitmaps: IPs %v -> %v, ports %v -> %v", ipsBefore, ips, portsBefore, ports)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := tt.svc.GetSpec()
			if tt.wantIP != "" && s.GetClusterIp() != tt.wantIP {
				t.Fatalf("clusterIP %q, want %q", s.GetClusterIp(), tt.wantIP)
			}
			if s.GetType() != "ExternalName" && (len(s.GetClusterIps()) != 1 || s.GetClusterIps()[0] != s.GetClusterIp()) {
				t.Fatalf("clusterIPs %v not [clusterIP %q]", s.GetClusterIps(), s.GetClusterIp())
			}
			if s.GetType() == "ExternalName" && s.GetClusterIp() != "" {
				t.Fatalf("external name got cluster IP %q", s.GetClusterIp())
			}
			for i, want := range tt.wantPorts {
				got := s.GetPorts()[i].GetNodePort()
				if (want == -1 && (got < 30000 || got > 30099)) || (want != -1 && got != want) {
					t.Fatalf("ports[%d].nodePort = %d, want %d (-1: any in range)", i, got, want)
				}
			}
		})
	}
}

// TestUpdateTransitions: an allocation for an update takes what the new
// Service needs and, on Commit, frees what only the old one held; on Revert
// it frees what it took.
func TestUpdateTransitions(t *testing.T) {
	a := newServices(t, newStore(t), "10.96.0.0/24", "30000-30099")
	cur := svc("web", "ClusterIP", "")
	if _, err := a.Allocate(ctx(t), nil, cur); err != nil {
		t.Fatal(err)
	}
	ip := cur.Spec.ClusterIp

	// ClusterIP -> NodePort: a node port is allocated, the IP kept.
	np := svc("web", "NodePort", ip)
	alloc, err := a.Allocate(ctx(t), cur, np)
	if err != nil {
		t.Fatal(err)
	}
	alloc.Commit(ctx(t))
	port := int(np.Spec.Ports[0].NodePort)
	if !slices.Equal(usedPorts(t, a), []int{port}) || !slices.Equal(usedIPs(t, a), []string{ip}) {
		t.Fatalf("after ClusterIP->NodePort: ports %v IPs %v, want [%d] [%s]", usedPorts(t, a), usedIPs(t, a), port, ip)
	}

	// A reverted change to another explicit port leaves the first one.
	other := svc("web", "NodePort", ip, 30077)
	alloc, err = a.Allocate(ctx(t), np, other)
	if err != nil {
		t.Fatal(err)
	}
	alloc.Revert(ctx(t))
	if !slices.Equal(usedPorts(t, a), []int{port}) {
		t.Fatalf("after a reverted port change: ports %v, want [%d]", usedPorts(t, a), port)
	}

	// NodePort -> ClusterIP: the node port is freed.
	back := svc("web", "ClusterIP", ip)
	alloc, err = a.Allocate(ctx(t), np, back)
	if err != nil {
		t.Fatal(err)
	}
	alloc.Commit(ctx(t))
	if p := usedPorts(t, a); len(p) != 0 {
		t.Fatalf("after NodePort->ClusterIP: ports %v still allocated", p)
	}

	// ClusterIP -> ExternalName: the IP is freed.
	ext := &corev1.Service{Metadata: back.Metadata, Spec: &corev1.ServiceSpec{Type: "ExternalName", ExternalName: "x.example"}}
	alloc, err = a.Allocate(ctx(t), back, ext)
	if err != nil {
		t.Fatal(err)
	}
	alloc.Commit(ctx(t))
	if ips := usedIPs(t, a); len(ips) != 0 {
		t.Fatalf("after ClusterIP->ExternalName: IPs %v still allocated", ips)
	}
}

// TestRepair: at start a Service's values missing from the bitmaps are
// marked, values held by no stored Service are kept (another apiserver may
// be storing their Service) and freed by the periodic repair's first pass
// that still finds them unheld, and a bitmap of another range is replaced.
func TestRepair(t *testing.T) {
	store := newStore(t)
	old := newServices(t, store, "10.96.0.0/24", "30000-30099")
	leak := svc("leak", "NodePort", "10.96.0.9", 30009)
	if _, err := old.Allocate(ctx(t), nil, leak); err != nil {
		t.Fatal(err)
	}
	kept := svc("kept", "NodePort", "10.96.0.20", 30020)
	headless := svc("headless", "ClusterIP", "None")
	outside := svc("outside", "ClusterIP", "10.100.0.1")
	if err := old.Repair(ctx(t), []*corev1.Service{kept, headless, outside}); err != nil {
		t.Fatal(err)
	}
	if ips, ports := usedIPs(t, old), usedPorts(t, old); !slices.Equal(ips, []string{"10.96.0.9", "10.96.0.20"}) || !slices.Equal(ports, []int{30009, 30020}) {
		t.Fatalf("after the start repair: IPs %v ports %v, want [10.96.0.9 10.96.0.20] [30009 30020] (nothing freed)", ips, ports)
	}
	rctx, cancel := context.WithCancel(ctx(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		old.RunRepair(rctx, 20*time.Millisecond, func(context.Context) ([]*corev1.Service, error) {
			return []*corev1.Service{kept, headless, outside}, nil
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for ips, ports := usedIPs(t, old), usedPorts(t, old); !slices.Equal(ips, []string{"10.96.0.20"}) || !slices.Equal(ports, []int{30020}); ips, ports = usedIPs(t, old), usedPorts(t, old) {
		if time.Now().After(deadline) {
			t.Fatalf("the periodic repair did not free the leak: IPs %v ports %v, want [10.96.0.20] [30020]", ips, ports)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	// the range changed between starts: the stored bitmap is replaced.
	wider := newServices(t, store, "10.96.0.0/23", "30000-30199")
	if _, err := wider.IPs.Used(ctx(t)); err == nil {
		t.Fatal("a bitmap of another range was read without complaint")
	}
	if err := wider.Repair(ctx(t), []*corev1.Service{kept}); err != nil {
		t.Fatal(err)
	}
	if ips := usedIPs(t, wider); !slices.Equal(ips, []string{"10.96.0.20"}) {
		t.Fatalf("after repair into a wider range: IPs %v", ips)
	}
}

// TestUpdateAfterRangeChange: a Service created under one cluster IP and
// node port range keeps its values when the apiserver restarts with other
// ranges: an update that leaves them unchanged succeeds without a range
// check, while a new value outside the current ranges is still refused.
func TestUpdateAfterRangeChange(t *testing.T) {
	store := newStore(t)
	before := newServices(t, store, "10.96.0.0/24", "30000-30099")
	cur := svc("web", "NodePort", "10.96.0.10", 30010)
	if _, err := before.Allocate(ctx(t), nil, cur); err != nil {
		t.Fatal(err)
	}
	after := newServices(t, store, "10.96.1.0/24", "31000-31099")
	if err := after.Repair(ctx(t), []*corev1.Service{cur}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		edit     func(s *corev1.Service)
		code     codes.Code
		contains string
	}{
		{"labels only", func(s *corev1.Service) { s.Metadata.Labels = map[string]string{"app": "web"} }, codes.OK, ""},
		{"another port added", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, &corev1.ServicePort{Name: "https", Port: 443, Protocol: "TCP"})
		}, codes.OK, ""},
		{"new cluster IP outside the range", func(s *corev1.Service) { s.Spec.ClusterIp = "10.96.0.11" }, codes.InvalidArgument, "spec.clusterIP: Invalid value: \"10.96.0.11\": provided IP is not in the valid range"},
		{"new node port outside the range", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30011 }, codes.InvalidArgument, "spec.ports[0].nodePort: Invalid value: 30011: provided port is not in the valid range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := proto.Clone(cur).(*corev1.Service)
			tt.edit(next)
			alloc, err := after.Allocate(ctx(t), cur, next)
			if tt.code != codes.OK {
				wantAPICode(t, err, tt.code, tt.contains)
				return
			}
			if err != nil {
				t.Fatalf("update with unchanged values refused: %v", err)
			}
			alloc.Commit(ctx(t))
			if next.Spec.ClusterIp != "10.96.0.10" || next.Spec.Ports[0].NodePort != 30010 {
				t.Fatalf("kept values changed: clusterIP %q nodePort %d", next.Spec.ClusterIp, next.Spec.Ports[0].NodePort)
			}
			for _, p := range next.Spec.Ports[1:] {
				if p.NodePort < 31000 || p.NodePort > 31099 {
					t.Fatalf("new port got node port %d, want one in 31000-31099", p.NodePort)
				}
			}
		})
	}
}

// TestSamePortNumberSharesNodePort: ports of one number and different
// protocols get one node port, allocated or asked for by either; other
// numbers get their own.
func TestSamePortNumberSharesNodePort(t *testing.T) {
	port := func(name string, n int32, proto string, np int32) *corev1.ServicePort {
		return &corev1.ServicePort{Name: name, Port: n, Protocol: proto, NodePort: np}
	}
	tests := []struct {
		name      string
		ports     []*corev1.ServicePort
		wantSame  [][]int // indexes that share a node port
		wantFixed map[int]int32
		wantUsed  int
	}{
		{"both allocated", []*corev1.ServicePort{port("dns", 53, "UDP", 0), port("dns-tcp", 53, "TCP", 0), port("metrics", 9153, "TCP", 0)}, [][]int{{0, 1}}, nil, 2},
		{"later one asked for", []*corev1.ServicePort{port("dns", 53, "UDP", 0), port("dns-tcp", 53, "TCP", 30053)}, [][]int{{0, 1}}, map[int]int32{0: 30053, 1: 30053}, 1},
		{"earlier one asked for", []*corev1.ServicePort{port("dns", 53, "UDP", 30054), port("dns-tcp", 53, "TCP", 0)}, [][]int{{0, 1}}, map[int]int32{0: 30054, 1: 30054}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newServices(t, newStore(t), "10.96.0.0/24", "30000-30099")
			s := svc("dns", "NodePort", "")
			s.Spec.Ports = tt.ports
			if _, err := a.Allocate(ctx(t), nil, s); err != nil {
				t.Fatal(err)
			}
			got := s.Spec.Ports
			for _, same := range tt.wantSame {
				if got[same[0]].NodePort == 0 || got[same[0]].NodePort != got[same[1]].NodePort {
					t.Fatalf("ports %d and %d: node ports %d and %d, want one shared", same[0], same[1], got[same[0]].NodePort, got[same[1]].NodePort)
				}
			}
			for i, want := range tt.wantFixed {
				if got[i].NodePort != want {
					t.Fatalf("ports[%d].nodePort = %d, want %d", i, got[i].NodePort, want)
				}
			}
			if len(got) > 2 && got[2].NodePort == got[0].NodePort {
				t.Fatalf("port %d shares node port %d with port %d", got[2].Port, got[2].NodePort, got[0].Port)
			}
			if used := usedPorts(t, a); len(used) != tt.wantUsed {
				t.Fatalf("node ports used %v, want %d of them", used, tt.wantUsed)
			}
		})
	}
}

// TestStartKeepsAnotherApiserversAllocation: an apiserver starting on the
// same etcd does not free a value another one has allocated and not yet
// stored its Service for.
func TestStartKeepsAnotherApiserversAllocation(t *testing.T) {
	store := newStore(t)
	running := newServices(t, store, "10.96.0.0/24", "30000-30099")
	inFlight := svc("in-flight", "NodePort", "10.96.0.30", 30030)
	if _, err := running.Allocate(ctx(t), nil, inFlight); err != nil {
		t.Fatal(err)
	}
	starting := newServices(t, store, "10.96.0.0/24", "30000-30099")
	if err := starting.Repair(ctx(t), nil); err != nil { // the Service is not stored yet
		t.Fatal(err)
	}
	_, err := starting.Allocate(ctx(t), nil, svc("other", "NodePort", "10.96.0.30"))
	wantAPICode(t, err, codes.InvalidArgument, "provided IP is already allocated")
	_, err = starting.Allocate(ctx(t), nil, svc("other", "NodePort", "", 30030))
	wantAPICode(t, err, codes.InvalidArgument, "provided port is already allocated")
}
