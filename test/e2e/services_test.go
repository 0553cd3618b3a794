//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TestServiceForPods is seed 004's deployment-for-service behind
// service-for-pods, reached from jumpod through the Service's ClusterIP
// (the proxy's nftables DNAT): /info on port 80; with 2 replicas, 100
// requests reach both pods; a pod started after the Service has its
// environment variables; scaled to 0, a connection is refused at once.
func TestServiceForPods(t *testing.T) {
	t.Parallel()
	ns := workloadNamespace(t)
	createSeedDeployment(t, ns, "deployment-for-service.yaml")
	svc := createService(t, ns, seedService(t, "service-for-pods.yaml"))
	ip := svc.GetSpec().GetClusterIp()
	startJumpod(t, ns)
	waitEndpoints(t, ns, "service-for-pods", 1)

	t.Run("ClusterIP", func(t *testing.T) {
		out := fetch(t, ns, "http://"+ip+":80/info")
		var v struct{ Host, Version, From string }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("/info through %s answered %q: %v", ip, out, err)
		}
		// wget names the port it was given in the Host header.
		if v.Host != ip+":80" || v.Version != "0.5.0" {
			t.Errorf("/info through %s = %+v, want host %s:80, version 0.5.0", ip, v, ip)
		}
	})

	scaleDeployment(t, ns, "deployment-for-service", 2)
	waitEndpoints(t, ns, "service-for-pods", 2)

	t.Run("Balance", func(t *testing.T) {
		pods := runningPods(t, ns, "app=sise")
		if len(pods) != 2 {
			t.Fatalf("%d running sise pods, want 2", len(pods))
		}
		// Once the proxy has both endpoints, each pod answers within a few requests.
		err := poll(60*time.Second, func() error {
			counts, err := hostnames(t, ns, ip, 10)
			if err != nil {
				return err
			}
			if len(counts) < 2 {
				return fmt.Errorf("10 requests reached only %v", counts)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("the Service never reached both pods: %v", err)
		}
		counts, err := hostnames(t, ns, ip, 100)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, p := range pods {
			n := counts[p.GetMetadata().GetName()]
			total += n
			if n < 20 {
				t.Errorf("pod %s answered %d of 100 requests, want at least 20 (all: %v)", p.GetMetadata().GetName(), n, counts)
			}
		}
		if total != 100 {
			t.Errorf("the two pods answered %d of 100 requests (all: %v)", total, counts)
		}
	})

	t.Run("Env", func(t *testing.T) {
		createPod(t, ns, seedPod(t, "pod-env.yaml"))
		waitPod(t, ns, "pod-env", 60*time.Second, "Running", running)
		out, _, code := execIn(t, ns, "pod-env", "sise", "printenv")
		if code != 0 {
			t.Fatalf("printenv exit %d", code)
		}
		port := fmt.Sprintf("tcp://%s:80", ip)
		for _, want := range []string{
			"SIMPLE_SERVICE_VERSION=1.0",
			"HOSTNAME=pod-env",
			"KUBERNETES_SERVICE_HOST=10.96.0.1",
			"KUBERNETES_SERVICE_PORT=443",
			"KUBERNETES_SERVICE_PORT_HTTPS=443",
			"KUBERNETES_PORT=tcp://10.96.0.1:443",
			"KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
			"KUBERNETES_PORT_443_TCP_PROTO=tcp",
			"KUBERNETES_PORT_443_TCP_PORT=443",
			"KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
			"SERVICE_FOR_PODS_SERVICE_HOST=" + ip,
			"SERVICE_FOR_PODS_SERVICE_PORT=80",
			"SERVICE_FOR_PODS_PORT=" + port,
			"SERVICE_FOR_PODS_PORT_80_TCP=" + port,
			"SERVICE_FOR_PODS_PORT_80_TCP_PROTO=tcp",
			"SERVICE_FOR_PODS_PORT_80_TCP_PORT=80",
			"SERVICE_FOR_PODS_PORT_80_TCP_ADDR=" + ip,
		} {
			if !strings.Contains("\n"+out, "\n"+want+"\n") {
				t.Errorf("printenv lacks %s:\n%s", want, out)
			}
		}
	})

	scaleDeployment(t, ns, "deployment-for-service", 0)
	waitEndpoints(t, ns, "service-for-pods", 0)

	t.Run("RefusedWithoutEndpoints", func(t *testing.T) {
		// Until the proxy has seen the last endpoint go, a request may still
		// head for a stopping pod; then every one is refused at once.
		var last string
		err := poll(60*time.Second, func() error {
			refused, took, out := timedFetch(t, ns, "http://"+ip+"/info")
			last = out
			if !refused {
				return fmt.Errorf("not refused: %s", out)
			}
			if took >= 500*time.Millisecond {
				return fmt.Errorf("refused after %v", took)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("a connection to %s:80 without endpoints was never refused at once: %v; last:\n%s", ip, err, last)
		}
		for range 3 {
			if refused, took, out := timedFetch(t, ns, "http://"+ip+"/info"); !refused || took >= 500*time.Millisecond {
				t.Errorf("again: refused %t after %v:\n%s", refused, took, out)
			}
		}
		// An address of the service CIDR that no Service has is refused
		// the same way: nothing for a cluster address leaves the node.
		free := unallocatedServiceIP(t)
		if refused, took, out := timedFetch(t, ns, "http://"+free+"/"); !refused || took >= 500*time.Millisecond {
			t.Errorf("%s, no Service's: refused %t after %v:\n%s", free, refused, took, out)
		}
	})
}

// hostnames makes n requests to the Service's /env from jumpod, each a new
// connection, and counts the answering pods by their HOSTNAME.
func hostnames(t *testing.T, ns, ip string, n int) (map[string]int, error) {
	t.Helper()
	out, stderr, code := shell(t, ns, fmt.Sprintf("for i in $(seq %d); do timeout 3 wget -qO- http://%s/env || exit 1; done", n, ip))
	if code != 0 {
		return nil, fmt.Errorf("wget http://%s/env: exit %d: %s", ip, code, strings.TrimSpace(stderr))
	}
	counts := map[string]int{}
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var env map[string]string
		err := dec.Decode(&env)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("answers of /env: %v:\n%s", err, out)
		}
		counts[env["HOSTNAME"]]++
	}
	if got := func() int {
		s := 0
		for _, c := range counts {
			s += c
		}
		return s
	}(); got != n {
		return counts, fmt.Errorf("%d answers to %d requests", got, n)
	}
	return counts, nil
}

var realTime = regexp.MustCompile(`real\s+(\d+)m\s*([0-9.]+)s`)

// timedFetch runs one wget of url in jumpod under busybox's time and says
// whether the connection was refused and how long the attempt took.
func timedFetch(t *testing.T, ns, url string) (refused bool, took time.Duration, output string) {
	t.Helper()
	out, stderr, code := shell(t, ns, "time timeout 5 wget -qO- "+url)
	output = fmt.Sprintf("exit %d\n%s%s", code, out, stderr)
	m := realTime.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no time in the output of time wget:\n%s", output)
	}
	mins, _ := strconv.Atoi(m[1])
	sec, _ := strconv.ParseFloat(m[2], 64)
	took = time.Duration(mins)*time.Minute + time.Duration(sec*float64(time.Second))
	return code != 0 && strings.Contains(stderr, "Connection refused"), took, output
}

// unallocatedServiceIP is one of the service CIDR's two highest usable
// addresses (10.96.0.0/12 ends at 10.111.255.255) that no Service has.
func unallocatedServiceIP(t *testing.T) string {
	t.Helper()
	l, err := cluster.CS.Services().List(context.Background(), &metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]bool{}
	for _, s := range l.GetItems() {
		taken[s.GetSpec().GetClusterIp()] = true
	}
	for _, ip := range []string{"10.111.255.254", "10.111.255.253"} {
		if !taken[ip] {
			return ip
		}
	}
	t.Fatal("both test addresses are Services'")
	return ""
}
