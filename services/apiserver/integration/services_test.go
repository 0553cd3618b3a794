package integration

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

const servicesPath = "/api/v1/namespaces/default/services"

func serviceJSON(name, typ, clusterIP string, nodePort int) obj {
	port := obj{"name": "http", "port": 80, "targetPort": "web"}
	if nodePort != 0 {
		port["nodePort"] = nodePort
	}
	spec := obj{"selector": obj{"app": name}, "ports": []any{port}}
	if typ != "" {
		spec["type"] = typ
	}
	if clusterIP != "" {
		spec["clusterIP"] = clusterIP
	}
	return obj{"apiVersion": "v1", "kind": "Service", "metadata": obj{"name": name}, "spec": spec}
}

// TestKubernetesService: the apiserver creates the `kubernetes` Service at
// the range's first address, port 443 named https, and Endpoints pointing
// at itself.
func TestKubernetesService(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	svc := s.must(t, http.StatusOK, "GET", servicesPath+"/kubernetes", nil)
	if ip := str(svc, "spec", "clusterIP"); ip != "10.96.0.1" {
		t.Fatalf("kubernetes clusterIP %q, want 10.96.0.1", ip)
	}
	port := get(svc, "spec", "ports").([]any)[0].(obj)
	if port["name"] != "https" || port["port"] != float64(443) || port["protocol"] != "TCP" {
		t.Fatalf("kubernetes port %v, want https 443/TCP", port)
	}
	ep := s.must(t, http.StatusOK, "GET", "/api/v1/namespaces/default/endpoints/kubernetes", nil)
	subset := get(ep, "subsets").([]any)[0].(obj)
	ip := subset["addresses"].([]any)[0].(obj)["ip"]
	epPort := subset["ports"].([]any)[0].(obj)["port"]
	if got, want := fmt.Sprintf("%v:%v", ip, epPort), s.addr; got != want {
		t.Fatalf("kubernetes endpoints %s, want the apiserver's %s", got, want)
	}
}

// TestKubernetesServiceComesBack: the `kubernetes` Service and Endpoints,
// deleted or changed while the apiserver serves, are put back by its
// periodic reconcile, the Service at the range's first address.
func TestKubernetesServiceComesBack(t *testing.T) {
	t.Parallel()
	s := start(t, options{kubernetesServiceInterval: 100 * time.Millisecond})
	s.must(t, http.StatusOK, "DELETE", servicesPath+"/kubernetes", nil)
	s.must(t, http.StatusOK, "DELETE", "/api/v1/namespaces/default/endpoints/kubernetes", nil)
	var svc, ep response
	if !poll(20*time.Second, func() bool {
		svc = s.do(t, "GET", servicesPath+"/kubernetes", nil)
		ep = s.do(t, "GET", "/api/v1/namespaces/default/endpoints/kubernetes", nil)
		return svc.code == http.StatusOK && ep.code == http.StatusOK
	}) {
		t.Fatalf("the deleted kubernetes Service and Endpoints did not come back: HTTP %d %s, HTTP %d %s", svc.code, svc.body, ep.code, ep.body)
	}
	if ip := str(svc.object(t), "spec", "clusterIP"); ip != "10.96.0.1" {
		t.Fatalf("kubernetes clusterIP %q after it came back, want 10.96.0.1", ip)
	}
	subset := get(ep.object(t), "subsets").([]any)[0].(obj)
	ip := subset["addresses"].([]any)[0].(obj)["ip"]
	epPort := subset["ports"].([]any)[0].(obj)["port"]
	if got := fmt.Sprintf("%v:%v", ip, epPort); got != s.addr {
		t.Fatalf("kubernetes endpoints %s after they came back, want the apiserver's %s", got, s.addr)
	}
	// Endpoints pointed elsewhere are put back too.
	bad := ep.object(t)
	bad["subsets"].([]any)[0].(obj)["addresses"] = []any{obj{"ip": "127.0.0.9"}}
	s.must(t, http.StatusOK, "PUT", "/api/v1/namespaces/default/endpoints/kubernetes", bad)
	if !poll(20*time.Second, func() bool {
		ep = s.do(t, "GET", "/api/v1/namespaces/default/endpoints/kubernetes", nil)
		return ep.code == http.StatusOK && strings.Contains(string(ep.body), s.addr[:strings.LastIndex(s.addr, ":")]+`"`)
	}) {
		t.Fatalf("changed kubernetes Endpoints were not put back: HTTP %d %s", ep.code, ep.body)
	}
}

// TestServiceAllocation walks a Service through the allocator: allocated
// and explicit cluster IPs, taken and out-of-range values refused with the
// field named (and nothing written), immutability, node ports following the
// type, and release on delete.
func TestServiceAllocation(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	web := s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("web", "", "", 0))
	ip := str(web, "spec", "clusterIP")
	if a, err := netip.ParseAddr(ip); err != nil || !netip.MustParsePrefix("10.96.0.0/12").Contains(a) || ip == "10.96.0.1" {
		t.Fatalf("allocated clusterIP %q is not a free address of 10.96.0.0/12", ip)
	}
	if ips := get(web, "spec", "clusterIPs").([]any); len(ips) != 1 || ips[0] != ip {
		t.Fatalf("clusterIPs %v, want [%s]", ips, ip)
	}
	if typ := str(web, "spec", "type"); typ != "ClusterIP" {
		t.Fatalf("type defaulted to %q", typ)
	}
	s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("fixed", "", "10.96.5.5", 0))
	s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("np", "NodePort", "", 30080))
	headless := s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("headless", "", "None", 0))
	if str(headless, "spec", "clusterIP") != "None" {
		t.Fatalf("headless clusterIP %q", str(headless, "spec", "clusterIP"))
	}

	bad := []struct {
		name, field, message string
		code                 int
		body                 obj
	}{
		{"IP taken", "spec.clusterIP", "provided IP is already allocated", 422, serviceJSON("dup", "", "10.96.5.5", 0)},
		{"IP outside", "spec.clusterIP", "provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12", 422, serviceJSON("outside", "", "192.168.1.1", 0)},
		{"node port taken", "spec.ports[0].nodePort", "provided port is already allocated", 422, serviceJSON("np2", "NodePort", "10.96.7.7", 30080)},
		{"node port outside", "spec.ports[0].nodePort", "The range of valid ports is 30000-32767", 422, serviceJSON("np3", "NodePort", "10.96.7.8", 8080)},
		{"headless node port", "spec.clusterIP", "may not be set to 'None' for NodePort services", 422, serviceJSON("np4", "NodePort", "None", 0)},
		{"duplicate port name", "spec.ports[1].name", "Duplicate value", 422, func() obj {
			b := serviceJSON("dupname", "", "10.96.7.9", 0)
			b["spec"].(obj)["ports"] = []any{obj{"name": "a", "port": 80}, obj{"name": "a", "port": 81}}
			return b
		}()},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			before := s.etcdState(t)
			r := s.do(t, "POST", servicesPath, tt.body)
			st := r.status(t)
			if r.code != tt.code || !slices.Contains(st.fields(), tt.field) || !strings.Contains(st.Message, tt.message) {
				t.Fatalf("HTTP %d fields %v %q, want %d naming %s with %q", r.code, st.fields(), st.Message, tt.code, tt.field, tt.message)
			}
			if after := s.etcdState(t); after != before {
				t.Fatalf("a refused create wrote to etcd: %+v -> %+v", before, after)
			}
		})
	}

	t.Run("clusterIP is immutable", func(t *testing.T) {
		cur := s.must(t, http.StatusOK, "GET", servicesPath+"/web", nil)
		cur["spec"].(obj)["clusterIP"] = "10.96.9.9"
		cur["spec"].(obj)["clusterIPs"] = []any{"10.96.9.9"}
		r := s.do(t, "PUT", servicesPath+"/web", cur)
		if st := r.status(t); r.code != 422 || !slices.Contains(st.fields(), "spec.clusterIP") || !strings.Contains(st.Message, "field is immutable") {
			t.Fatalf("HTTP %d %s, want 422 spec.clusterIP immutable", r.code, r.body)
		}
	})
	t.Run("an update without clusterIP keeps it", func(t *testing.T) {
		body := serviceJSON("web", "", "", 0)
		got := s.must(t, http.StatusOK, "PUT", servicesPath+"/web", body)
		if str(got, "spec", "clusterIP") != ip {
			t.Fatalf("clusterIP %q after an update without it, want %q", str(got, "spec", "clusterIP"), ip)
		}
	})
	t.Run("type NodePort and back", func(t *testing.T) {
		cur := s.must(t, http.StatusOK, "GET", servicesPath+"/web", nil)
		cur["spec"].(obj)["type"] = "NodePort"
		got := s.must(t, http.StatusOK, "PUT", servicesPath+"/web", cur)
		np := get(got, "spec", "ports").([]any)[0].(obj)["nodePort"].(float64)
		if np < 30000 || np > 32767 || np == 30080 {
			t.Fatalf("nodePort %v, want a free port of 30000-32767", np)
		}
		got["spec"].(obj)["type"] = "ClusterIP"
		back := s.must(t, http.StatusOK, "PUT", servicesPath+"/web", got)
		if p := get(back, "spec", "ports").([]any)[0].(obj)["nodePort"]; p != nil {
			t.Fatalf("nodePort %v kept after the type went back to ClusterIP", p)
		}
		// the port was released: another Service may take it.
		s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("takes-port", "NodePort", "", int(np)))
	})
	t.Run("delete releases", func(t *testing.T) {
		s.must(t, http.StatusOK, "DELETE", servicesPath+"/fixed", nil)
		s.must(t, http.StatusOK, "DELETE", servicesPath+"/np", nil)
		s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("fixed2", "NodePort", "10.96.5.5", 30080))
	})
}

// TestServiceConcurrentCreates: many Services created at once over gRPC
// get distinct cluster IPs and node ports.
func TestServiceConcurrentCreates(t *testing.T) {
	t.Parallel()
	s := start(t, options{serviceCIDR: "10.96.0.0/24", nodePorts: "30000-30199"})
	const n = 60
	var wg sync.WaitGroup
	out := make([]*corev1.Service, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = s.cs.Services().Create(ctx(t), &corev1.Service{
				Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i), Namespace: "default"},
				Spec: &corev1.ServiceSpec{Type: "NodePort", Ports: []*corev1.ServicePort{
					{Name: "http", Port: 80, TargetPort: structpb.NewNumberValue(8080)}}},
			})
		}()
	}
	wg.Wait()
	ips, ports := map[string]string{}, map[int32]string{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		name, ip, port := out[i].GetMetadata().GetName(), out[i].GetSpec().GetClusterIp(), out[i].GetSpec().GetPorts()[0].GetNodePort()
		if other, dup := ips[ip]; dup || ip == "" || ip == "10.96.0.1" {
			t.Fatalf("%s got cluster IP %q (also %q's, or reserved)", name, ip, other)
		}
		if other, dup := ports[port]; dup || port < 30000 || port > 30199 {
			t.Fatalf("%s got node port %d (also %q's, or out of range)", name, port, other)
		}
		ips[ip], ports[port] = name, name
	}
}

// TestServiceRangeExhausted: a /29 has six usable addresses, one the
// kubernetes Service's; the sixth Service gets a ResourceExhausted error
// naming the range, and nothing is written or leaked: after a delete the
// next create succeeds.
func TestServiceRangeExhausted(t *testing.T) {
	t.Parallel()
	s := start(t, options{serviceCIDR: "10.96.0.0/29"})
	for i := range 5 {
		s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON(fmt.Sprintf("s%d", i), "", "", 0))
	}
	before := s.etcdState(t)
	r := s.do(t, "POST", servicesPath, serviceJSON("full", "", "", 0))
	if st := r.status(t); r.code != http.StatusInternalServerError || !strings.Contains(st.Message, "the service cluster IP range 10.96.0.0/29 is full") {
		t.Fatalf("HTTP %d %q, want 500 naming the full range", r.code, st.Message)
	}
	_, err := s.cs.Services().Create(ctx(t), &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "full-grpc", Namespace: "default"},
		Spec:     &corev1.ServiceSpec{Ports: []*corev1.ServicePort{{Port: 80}}},
	})
	wantCode(t, err, codes.ResourceExhausted, "create in a full range")
	if after := s.etcdState(t); after != before {
		t.Fatalf("refused creates wrote to etcd: %+v -> %+v", before, after)
	}
	if n, _ := s.metric(t, s.base, "tugboat_apiserver_allocator_allocations_total", map[string]string{"range": "serviceips", "result": "full"}); n != 2 {
		t.Fatalf("allocations_total{serviceips,full} = %v, want 2", n)
	}
	if n, _ := s.metric(t, s.base, "tugboat_apiserver_allocator_used", map[string]string{"range": "serviceips"}); n != 6 {
		t.Fatalf("allocator_used{serviceips} = %v, want 6 (the whole /29)", n)
	}
	s.must(t, http.StatusOK, "DELETE", servicesPath+"/s3", nil)
	s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("after", "", "", 0))
}

// TestServiceRepairAtStart: a bitmap that lost track (every address marked
// used, as a crash between allocation and store could leave it) is brought
// back in line after the apiserver restarts: the start marks what stored
// Services hold and keeps the rest (another apiserver may be storing their
// Services), the first periodic repair that still finds them unheld frees
// them.
func TestServiceRepairAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, options{dataDir: dir, serviceCIDR: "10.96.0.0/29"})
	first.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("kept", "", "10.96.0.3", 0))
	c := first.etcd(t)
	kv, err := c.Get(ctx(t), "/registry/ranges/serviceips")
	if err != nil || len(kv.Kvs) != 1 {
		t.Fatalf("read the cluster IP bitmap: %v", err)
	}
	v := kv.Kvs[0].Value
	full := append([]byte(nil), v...)
	full[len(full)-1] = 0xff // every address of the /29 marked used
	if _, err := c.Put(ctx(t), "/registry/ranges/serviceips", string(full)); err != nil {
		t.Fatal(err)
	}
	r := first.do(t, "POST", servicesPath, serviceJSON("before-repair", "", "", 0))
	if r.code != http.StatusInternalServerError {
		t.Fatalf("with a full bitmap the create got HTTP %d, want 500: %s", r.code, r.body)
	}
	first.stop()

	second := start(t, options{dataDir: dir, serviceCIDR: "10.96.0.0/29", serviceRepairInterval: 200 * time.Millisecond})
	var last response
	if !poll(20*time.Second, func() bool {
		last = second.do(t, "POST", servicesPath, serviceJSON("after-repair", "", "", 0))
		return last.code == http.StatusCreated
	}) {
		t.Fatalf("the leaked addresses were not freed after the restart: last create HTTP %d %s", last.code, last.body)
	}
	if ip := str(last.object(t), "spec", "clusterIP"); ip == "10.96.0.3" || ip == "10.96.0.1" {
		t.Fatalf("after repair the new Service got %s, held by another", ip)
	}
	r = second.do(t, "POST", servicesPath, serviceJSON("dup", "", "10.96.0.3", 0))
	if r.code != 422 {
		t.Fatalf("after repair the kept Service's IP was given again: HTTP %d %s", r.code, r.body)
	}
}

// TestServiceUpdateAfterRangeChange: after a restart with other Service
// ranges the apiserver starts (the kubernetes Service keeps its old
// address), and a Service created under the old ranges can still be
// updated, its cluster IP and node port unchanged; a new value outside the
// new ranges is still refused.
func TestServiceUpdateAfterRangeChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, options{dataDir: dir, serviceCIDR: "10.96.0.0/24", nodePorts: "30000-30099"})
	first.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("web", "NodePort", "10.96.0.10", 30010))
	first.stop()

	second := start(t, options{dataDir: dir, serviceCIDR: "10.96.1.0/24", nodePorts: "31000-31099"})
	svc := second.must(t, http.StatusOK, "GET", servicesPath+"/web", nil)
	get(svc, "metadata").(obj)["labels"] = obj{"tier": "front"}
	got := second.must(t, http.StatusOK, "PUT", servicesPath+"/web", svc)
	if ip, np := str(got, "spec", "clusterIP"), get(got, "spec", "ports").([]any)[0].(obj)["nodePort"]; ip != "10.96.0.10" || np != float64(30010) {
		t.Fatalf("after the label update: clusterIP %s nodePort %v, want 10.96.0.10 30010", ip, np)
	}
	get(got, "spec", "ports").([]any)[0].(obj)["nodePort"] = 30011
	r := second.do(t, "PUT", servicesPath+"/web", got)
	if r.code != 422 || !strings.Contains(string(r.body), "provided port is not in the valid range") {
		t.Fatalf("a new node port outside the range: HTTP %d %s, want 422", r.code, r.body)
	}
}

// TestServiceRepairWhileServing: addresses marked used but held by no
// Service (as a failed release leaves them) are freed by the periodic
// repair, while the kept Service's address stays taken.
func TestServiceRepairWhileServing(t *testing.T) {
	t.Parallel()
	s := start(t, options{serviceCIDR: "10.96.0.0/29", serviceRepairInterval: 200 * time.Millisecond})
	s.must(t, http.StatusCreated, "POST", servicesPath, serviceJSON("kept", "", "10.96.0.3", 0))
	c := s.etcd(t)
	kv, err := c.Get(ctx(t), "/registry/ranges/serviceips")
	if err != nil || len(kv.Kvs) != 1 {
		t.Fatalf("read the cluster IP bitmap: %v", err)
	}
	full := append([]byte(nil), kv.Kvs[0].Value...)
	full[len(full)-1] = 0xff // every address of the /29 marked used
	if _, err := c.Put(ctx(t), "/registry/ranges/serviceips", string(full)); err != nil {
		t.Fatal(err)
	}
	var last response
	if !poll(20*time.Second, func() bool {
		last = s.do(t, "POST", servicesPath, serviceJSON("after-repair", "", "", 0))
		return last.code == http.StatusCreated
	}) {
		t.Fatalf("the leaked addresses were not freed: last create HTTP %d %s", last.code, last.body)
	}
	if ip := str(last.object(t), "spec", "clusterIP"); ip == "10.96.0.3" || ip == "10.96.0.1" {
		t.Fatalf("after repair the new Service got %s, held by another", ip)
	}
}
