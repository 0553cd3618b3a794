//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServiceDiscovery is seed 004's deploy-disc, service-disc and jumpod in
// the default namespace, as the seed has them: jumpod resolves the Service
// by its short name, with its namespace and fully qualified (the cluster
// DNS through 10.96.0.10 and the search path the kubelet wrote) and fetches
// http://service-disc/info; a headless Service answers with both pods'
// IPs; the DNS answers the host on its own address too.
func TestServiceDiscovery(t *testing.T) {
	t.Parallel()
	const ns = "default"
	t.Cleanup(func() {
		deleteInDefault(t, []string{"deploy-disc"}, []string{"service-disc", "service-disc-headless"}, []string{"jumpod"}, "app=sise")
	})
	createSeedDeployment(t, ns, "deploy-disc.yaml")
	svc := createService(t, ns, seedService(t, "service-disc.yaml"))
	ip := svc.GetSpec().GetClusterIp()
	startJumpod(t, ns)
	waitEndpoints(t, ns, "service-disc", 1)

	t.Run("ResolvConf", func(t *testing.T) {
		out, _, code := shell(t, ns, "cat /etc/resolv.conf")
		if code != 0 {
			t.Fatalf("cat /etc/resolv.conf: exit %d", code)
		}
		for _, want := range []string{"nameserver " + dnsIP, "search default.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5"} {
			if !slices.Contains(strings.Split(out, "\n"), want) {
				t.Errorf("jumpod's resolv.conf lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("Names", func(t *testing.T) {
		// As the seed: ping resolves through the C library (search path,
		// ndots:5), then sends one echo the proxy turns away.
		for _, name := range []string{"service-disc", "service-disc.default", "service-disc.default.svc.cluster.local"} {
			resolves(t, ns, name, ip)
		}
		// nslookup asks the DNS itself (busybox's applies the search path
		// to dotless names only).
		for _, name := range []string{"service-disc", "service-disc.default.svc.cluster.local"} {
			if got := lookup(t, ns, name, ip); len(got) != 1 {
				t.Errorf("nslookup %s = %v, want only %s", name, got, ip)
			}
		}
	})

	t.Run("Fetch", func(t *testing.T) {
		out := fetch(t, ns, "http://service-disc/info")
		var v struct{ Host, Version string }
		if err := json.Unmarshal([]byte(out), &v); err != nil || v.Host != "service-disc" || v.Version != "0.5.0" {
			t.Errorf("http://service-disc/info = %q (%v), want host service-disc, version 0.5.0", out, err)
		}
	})

	t.Run("Headless", func(t *testing.T) {
		scaleDeployment(t, ns, "deploy-disc", 2)
		headless := seedService(t, "service-disc.yaml")
		headless.Metadata.Name = "service-disc-headless"
		headless.Spec.ClusterIp = "None"
		createService(t, ns, headless)
		pods := waitEndpoints(t, ns, "service-disc-headless", 2)
		if got := lookup(t, ns, "service-disc-headless.default.svc.cluster.local", pods...); !slices.Equal(got, pods) {
			t.Errorf("the headless Service resolves to %v, want the pods' %v", got, pods)
		}
	})

	t.Run("HostSide", func(t *testing.T) {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, cluster.DNSAddr)
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for name, want := range map[string]string{
			"service-disc.default.svc.cluster.local.": ip,
			"kubernetes.default.svc.cluster.local.":   "10.96.0.1",
			"kube-dns.kube-system.svc.cluster.local.": dnsIP,
		} {
			got, err := r.LookupHost(ctx, name)
			if err != nil || !slices.Equal(got, []string{want}) {
				t.Errorf("%s at %s = %v, %v; want %s", name, cluster.DNSAddr, got, err, want)
			}
		}
		_, err := r.LookupHost(ctx, "nothere.default.svc.cluster.local.")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Errorf("nothere.default.svc.cluster.local: %v, want not found (NXDOMAIN)", err)
		}
	})
}
