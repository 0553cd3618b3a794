//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
)

// seedService reads a Service manifest of seed 004.
func seedService(t *testing.T, file string) *corev1.Service {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cluster.Root, "machinery/manifest/testdata/seed004", file))
	if err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{}
	if err := manifest.DecodeInto(data, svc); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return svc
}

// createService creates svc in ns and checks the address it was given:
// one of the service CIDR, or None for a headless Service.
func createService(t *testing.T, ns string, svc *corev1.Service) *corev1.Service {
	t.Helper()
	svc.Metadata.Namespace = ns
	out, err := cluster.CS.Services().Create(context.Background(), svc)
	if err != nil {
		t.Fatalf("create service %s: %v", svc.GetMetadata().GetName(), err)
	}
	ip := out.GetSpec().GetClusterIp()
	if svc.GetSpec().GetClusterIp() == "None" {
		if ip != "None" {
			t.Fatalf("headless service %s got clusterIP %q, want None", svc.GetMetadata().GetName(), ip)
		}
		return out
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !netip.MustParsePrefix(serviceCIDR).Contains(addr) {
		t.Fatalf("service %s got clusterIP %q, want an address of %s", svc.GetMetadata().GetName(), ip, serviceCIDR)
	}
	return out
}

// createSeedDeployment creates one of seed 004's Deployments in ns with
// the project's images.
func createSeedDeployment(t *testing.T, ns, file string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	seedObject(t, file, d, func() *corev1.PodSpec { return d.GetSpec().GetTemplate().GetSpec() })
	d.Metadata.Namespace = ns
	out, err := cluster.CS.Deployments().Create(context.Background(), d)
	if err != nil {
		t.Fatalf("create deployment %s: %v", d.GetMetadata().GetName(), err)
	}
	return out
}

func scaleDeployment(t *testing.T, ns, name string, n int32) {
	t.Helper()
	if _, err := cluster.CS.Deployments().UpdateScale(context.Background(), &appsv1.Scale{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: &appsv1.ScaleSpec{Replicas: n}}); err != nil {
		t.Fatalf("scale deployment %s to %d: %v", name, n, err)
	}
}

// waitEndpoints waits until the Service's Endpoints list exactly n ready
// addresses, and returns their IPs, sorted.
func waitEndpoints(t *testing.T, ns, name string, n int) []string {
	t.Helper()
	var ips []string
	err := poll(120*time.Second, func() error {
		ep, err := cluster.CS.Endpoints().Get(context.Background(), &metav1.GetOptions{Namespace: ns, Name: name})
		if err != nil {
			return err
		}
		ips = nil
		for _, s := range ep.GetSubsets() {
			for _, a := range s.GetAddresses() {
				ips = append(ips, a.GetIp())
			}
		}
		if len(ips) != n {
			return fmt.Errorf("endpoints %s/%s: %v", ns, name, ep.GetSubsets())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("endpoints of %s/%s never had %d ready addresses: %v", ns, name, n, err)
	}
	slices.Sort(ips)
	return ips
}

// startJumpod creates seed 004's jumpod (a shell that sleeps) in ns and
// waits until it runs. Its shell ignores SIGTERM: the test's end deletes
// it with a grace period of 1 s, before the namespace goes.
func startJumpod(t *testing.T, ns string) {
	t.Helper()
	createPod(t, ns, seedPod(t, "jumpod.yaml"))
	t.Cleanup(func() {
		_, _ = cluster.CS.Pods().Delete(context.Background(), &metav1.DeleteOptions{Namespace: ns, Name: "jumpod", GracePeriodSeconds: ptr(int32(1))})
	})
	waitPod(t, ns, "jumpod", 60*time.Second, "Running", running)
}

// shell runs a script in jumpod's shell container.
func shell(t *testing.T, ns, script string) (stdout, stderr string, code int32) {
	t.Helper()
	return execIn(t, ns, "jumpod", "shell", "sh", "-c", script)
}

// fetch polls wget of url in jumpod until it answers, and returns the body.
// Time limits come from busybox timeout: Debian's static busybox 1.35
// wget crashes (SIGSEGV) with its own -T.
func fetch(t *testing.T, ns, url string) string {
	t.Helper()
	var out, stderr string
	var code int32
	err := poll(60*time.Second, func() error {
		out, stderr, code = shell(t, ns, "timeout 3 wget -qO- "+url)
		if code != 0 {
			return fmt.Errorf("wget %s: exit %d: %s", url, code, strings.TrimSpace(stderr))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("jumpod cannot fetch %s: %v", url, err)
	}
	return out
}

// lookup polls busybox nslookup of name in jumpod until its answer holds
// every address of want, and returns the addresses it printed.
func lookup(t *testing.T, ns, name string, want ...string) []string {
	t.Helper()
	var got []string
	var last string
	err := poll(30*time.Second, func() error {
		out, stderr, _ := shell(t, ns, "nslookup "+name)
		last = out + stderr
		got = answerAddresses(out)
		for _, w := range want {
			if !slices.Contains(got, w) {
				return errors.New("not yet")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("nslookup %s in jumpod never answered %v: %v; last answer:\n%s", name, want, err, last)
	}
	return got
}

// resolves polls "ping -c 1 NAME" in jumpod until it names want as the
// address it resolved name to (its first line: PING name (ip): ...).
func resolves(t *testing.T, ns, name, want string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^PING ` + regexp.QuoteMeta(name) + ` \(([0-9.]+)\)`)
	var last string
	err := poll(30*time.Second, func() error {
		out, stderr, _ := shell(t, ns, "ping -c 1 -W 1 "+name)
		last = out + stderr
		if m := re.FindStringSubmatch(out); m == nil || m[1] != want {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("jumpod never resolved %s to %s: %v; last:\n%s", name, want, err, last)
	}
}

// answerAddresses picks the addresses of busybox nslookup's answers (the
// "Address:" lines after a "Name:" line; the server's own comes before).
func answerAddresses(out string) []string {
	var addrs []string
	named := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 2 && f[0] == "Name:":
			named = true
		case named && len(f) >= 2 && f[0] == "Address:":
			addrs = append(addrs, f[1])
		}
	}
	slices.Sort(addrs)
	return slices.Compact(addrs)
}

// deleteInDefault removes what a test made in the default namespace
// (seed 004 works there) and waits until its pods are gone.
func deleteInDefault(t *testing.T, deployments, services, pods []string, selector string) {
	t.Helper()
	ctx := context.Background()
	for _, d := range deployments {
		if _, err := cluster.CS.Deployments().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: d}); err != nil {
			t.Errorf("delete deployment %s: %v", d, err)
		}
	}
	for _, s := range services {
		if _, err := cluster.CS.Services().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: s}); err != nil {
			t.Errorf("delete service %s: %v", s, err)
		}
	}
	for _, p := range pods {
		if _, err := cluster.CS.Pods().Delete(ctx, &metav1.DeleteOptions{Namespace: "default", Name: p, GracePeriodSeconds: ptr(int32(1))}); err != nil {
			t.Errorf("delete pod %s: %v", p, err)
		}
	}
	if err := poll(90*time.Second, func() error {
		l, err := cluster.CS.Pods().List(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: selector})
		if err != nil {
			return err
		}
		if n := len(l.GetItems()); n > 0 {
			return fmt.Errorf("%d pods %s left in default", n, selector)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
