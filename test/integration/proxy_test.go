package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/proxy/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/types/known/structpb"
)

const routeLocalnet = "/proc/sys/net/ipv4/conf/all/route_localnet"

// TestProxyRealNftables runs the proxy on this machine's nftables (its own
// table) against an in-process apiserver, with two endpoint namespaces
// serving HTTP and a client namespace, all made by the test on
// 10.244.250.0/24 under the kubelet's blackhole guards, routed by the host
// (ip_forward is turned on for the test if it is off). Run it under the
// real-node lock: flock /tmp/tugboat-realnode.lock go test -run Proxy ./test/integration/
func TestProxyRealNftables(t *testing.T) {
	realNode(t)
	guardRoute(t, "10.96.0.0/12")
	guardRoute(t, "10.244.0.0/16")
	forwarding(t)
	if old, err := os.ReadFile(routeLocalnet); err == nil {
		t.Cleanup(func() { _ = os.WriteFile(routeLocalnet, old, 0o644) })
	}
	id := os.Getpid() % 100000
	ep1 := makeNetns(t, fmt.Sprintf("tugproxy-%d-ep1", id), fmt.Sprintf("tpx%de1", id), "10.244.250.1", "10.244.250.2")
	ep2 := makeNetns(t, fmt.Sprintf("tugproxy-%d-ep2", id), fmt.Sprintf("tpx%de2", id), "10.244.250.5", "10.244.250.6")
	cli := makeNetns(t, fmt.Sprintf("tugproxy-%d-cli", id), fmt.Sprintf("tpx%dc", id), "10.244.250.9", "10.244.250.10")
	for _, n := range []*testNetns{ep1, ep2} {
		name := n.name
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) })}
		l := n.listen(t, ":8080")
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}

	// A UDP echo server in ep2, for a UDP Service (DNS goes this way).
	var udp net.PacketConn
	if err := ep2.do(func() (err error) { udp, err = net.ListenPacket("udp4", ":5353"); return err }); err != nil {
		t.Fatalf("listen udp in %s: %v", ep2.name, err)
	}
	t.Cleanup(func() { udp.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = udp.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()

	api := harness.StartAPIServer(t)
	table := fmt.Sprintf("tugboat-proxy-it-%d", id)
	// Registered before StartProxy, so it runs after the proxy's own
	// cleanup (--cleanup) and checks that it removed the table.
	t.Cleanup(func() {
		if out, err := exec.Command("nft", "list", "table", "ip", table).CombinedOutput(); err == nil {
			t.Errorf("table %s still there after --cleanup:\n%s", table, out)
			_ = exec.Command("nft", "delete", "table", "ip", table).Run()
		}
	})
	proxy := harness.StartProxy(t, api, harness.ProxyOptions{Table: table, Configure: func(c *app.Config) {
		c.ServiceCIDR, c.ClusterCIDR = "10.96.0.0/12", "10.244.0.0/16"
	}})
	ctx := harness.Context(t, 2*time.Minute)
	cs := api.Client

	createService(ctx, t, cs.Services(), "web", "10.96.250.10", "NodePort", 30950)
	createService(ctx, t, cs.Services(), "empty", "10.96.250.11", "ClusterIP", 0)
	eps := &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}, Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: ep1.nsIP}, {Ip: ep2.nsIP}},
		Ports:     []*corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: "TCP"}},
	}}}
	if _, err := cs.Endpoints().Create(ctx, eps); err != nil {
		t.Fatalf("create endpoints: %v", err)
	}

	udpSvc := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "dns"}, Spec: &corev1.ServiceSpec{
		Type: "ClusterIP", ClusterIp: "10.96.250.12", ClusterIps: []string{"10.96.250.12"},
		Ports: []*corev1.ServicePort{{Name: "dns", Protocol: "UDP", Port: 53, TargetPort: structpb.NewNumberValue(5353)}},
	}}
	if _, err := cs.Services().Create(ctx, udpSvc); err != nil {
		t.Fatalf("create service dns: %v", err)
	}
	if _, err := cs.Endpoints().Create(ctx, &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "dns"}, Subsets: []*corev1.EndpointSubset{{
		Addresses: []*corev1.EndpointAddress{{Ip: ep2.nsIP}},
		Ports:     []*corev1.EndpointPort{{Name: "dns", Port: 5353, Protocol: "UDP"}},
	}}}); err != nil {
		t.Fatalf("create endpoints dns: %v", err)
	}

	get := httpGetter(cli)
	harness.Poll(t, 30*time.Second, "ClusterIP answers from the client namespace", func() (bool, string) {
		body, err := get("10.96.250.10:80")
		return err == nil, fmt.Sprint(body, err)
	})
	t.Run("ClusterIP balances randomly over both endpoints", func(t *testing.T) {
		counts := map[string]int{}
		for range 100 {
			body, err := get("10.96.250.10:80")
			if err != nil {
				t.Fatalf("GET ClusterIP: %v", err)
			}
			counts[body]++
		}
		if counts[ep1.name] < 20 || counts[ep2.name] < 20 || counts[ep1.name]+counts[ep2.name] != 100 {
			t.Fatalf("100 requests split %v, want each endpoint at least 20", counts)
		}
	})
	t.Run("a UDP ClusterIP reaches its endpoint", func(t *testing.T) {
		harness.Poll(t, 30*time.Second, "UDP echo through 10.96.250.12:53", func() (bool, string) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, err := cli.dial(ctx, "udp4", "10.96.250.12:53")
			if err != nil {
				return false, err.Error()
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write([]byte("ping")); err != nil {
				return false, err.Error()
			}
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			if err != nil {
				return false, err.Error()
			}
			return string(buf[:n]) == "echo ping", string(buf[:n])
		})
	})
	t.Run("NodePort answers on the host side of the client's veth", func(t *testing.T) {
		body, err := get(cli.hostIP + ":30950")
		if err != nil || (body != ep1.name && body != ep2.name) {
			t.Fatalf("GET %s:30950 = %q, %v", cli.hostIP, body, err)
		}
	})
	t.Run("NodePort answers on 127.0.0.1 from the host", func(t *testing.T) {
		c := &http.Client{Timeout: 3 * time.Second}
		resp, err := c.Get("http://127.0.0.1:30950/")
		if err != nil {
			t.Fatalf("GET 127.0.0.1:30950: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if s := string(b); s != ep1.name && s != ep2.name {
			t.Fatalf("GET 127.0.0.1:30950 = %q", s)
		}
	})
	t.Run("a Service without endpoints is refused at once", func(t *testing.T) {
		refusedFast(t, cli, "10.96.250.11:80")
	})
	t.Run("an unallocated service address is refused at once", func(t *testing.T) {
		refusedFast(t, cli, "10.96.250.99:80")
		refusedFast(t, cli, "10.96.250.10:81")
	})
	t.Run("a removed endpoint stops getting traffic", func(t *testing.T) {
		cur, err := cs.Endpoints().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "web"})
		if err != nil {
			t.Fatal(err)
		}
		cur.Subsets[0].Addresses = cur.Subsets[0].Addresses[:1]
		if _, err := cs.Endpoints().Update(ctx, cur); err != nil {
			t.Fatalf("update endpoints: %v", err)
		}
		harness.Poll(t, 30*time.Second, "only "+ep1.name+" answers", func() (bool, string) {
			for i := range 30 {
				body, err := get("10.96.250.10:80")
				if err != nil || body != ep1.name {
					return false, fmt.Sprintf("request %d: %q %v", i, body, err)
				}
			}
			return true, ""
		})
		// Hairpin: the one endpoint left reaches itself through the
		// Service; unmasqueraded, its own address as source would be
		// dropped as martian.
		body, err := httpGetter(ep1)("10.96.250.10:80")
		if err != nil || body != ep1.name {
			t.Fatalf("hairpin GET from %s = %q, %v", ep1.name, body, err)
		}
	})
	t.Run("metrics count syncs and rules", func(t *testing.T) {
		mfs, err := proxy.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
				if len(m.GetLabel()) > 0 {
					got[mf.GetName()+"{"+m.GetLabel()[0].GetValue()+"}"] = v
				} else {
					got[mf.GetName()] = v
				}
			}
		}
		if got["tugboat_proxy_syncs_total{success}"] < 2 || got["tugboat_proxy_rules_programmed"] < 10 ||
			got["tugboat_proxy_sync_duration_seconds"] < 2 || got["tugboat_proxy_last_sync_timestamp_seconds"] < float64(time.Now().Add(-time.Minute).Unix()) {
			t.Fatalf("proxy metrics %v", got)
		}
	})
	t.Run("the table is the proxy's own and named as configured", func(t *testing.T) {
		out, err := exec.Command("nft", "list", "table", "ip", table).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "numgen random mod 1 vmap") {
			t.Fatalf("nft list table ip %s: %v\n%s", table, err, out)
		}
	})
}

func createService(ctx context.Context, t *testing.T, c corev1.ServiceServiceClient, name, ip, typ string, nodePort int32) {
	t.Helper()
	svc := &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: &corev1.ServiceSpec{
		Type: typ, ClusterIp: ip, ClusterIps: []string{ip},
		Ports: []*corev1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80, NodePort: nodePort, TargetPort: structpb.NewNumberValue(8080)}},
	}}
	if _, err := c.Create(ctx, svc); err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
}

// httpGetter returns a GET from inside n that answers the body.
func httpGetter(n *testNetns) func(addr string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: n.dial, DisableKeepAlives: true}}
	return func(addr string) (string, error) {
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
}

// refusedFast dials addr from n and wants ECONNREFUSED well under a second.
func refusedFast(t *testing.T, n *testNetns, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	c, err := n.dial(ctx, "tcp4", addr)
	took := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded, want connection refused", addr)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno != syscall.ECONNREFUSED || took > 500*time.Millisecond {
		t.Fatalf("dial %s = %v after %v, want ECONNREFUSED within 500ms", addr, err, took)
	}
}
