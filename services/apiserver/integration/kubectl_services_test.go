package integration

import (
	"bytes"
	"strings"
	"testing"
)

// seed 004's Services, as the seed writes them.
const seedServices = `apiVersion: v1
kind: Service
metadata:
  name: service-for-pods
spec:
  selector:
    app: sise
  ports:
    - port: 80
      targetPort: 9876
---
apiVersion: v1
kind: Service
metadata:
  name: service-disc
spec:
  ports:
    - port: 80
      targetPort: 9876
  selector:
    app: sise
`

// kubectlIn runs kubectl with stdin, failing the test when it fails.
func kubectlIn(t *testing.T, k *kubectl, stdin string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := k.command(ctx(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// TestKubectlServices: kubectl creates seed 004's Services, lists them and
// their Endpoints, and reads the allocated cluster IPs.
func TestKubectlServices(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	kc := newKubectl(t, s)
	k := func(stdin string, args ...string) string { t.Helper(); return kubectlIn(t, kc, stdin, args...) }
	out := k(seedServices, "create", "-f", "-")
	for _, want := range []string{"service/service-for-pods created", "service/service-disc created"} {
		if !strings.Contains(out, want) {
			t.Fatalf("kubectl create output lacks %q:\n%s", want, out)
		}
	}
	ip := k("", "get", "svc", "service-for-pods", "-o", "jsonpath={.spec.clusterIP}")
	if !strings.HasPrefix(ip, "10.") || ip == "10.96.0.1" {
		t.Fatalf("service-for-pods clusterIP %q, want an allocated address of 10.96.0.0/12", ip)
	}
	t.Logf("service-for-pods got clusterIP %s", ip)
	list := k("", "get", "svc")
	for _, want := range []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "kubernetes", "10.96.0.1", "443/TCP", "service-for-pods", ip, "80/TCP", "service-disc"} {
		if !strings.Contains(list, want) {
			t.Fatalf("kubectl get svc lacks %q:\n%s", want, list)
		}
	}
	t.Logf("kubectl get svc:\n%s", list)
	for _, args := range [][]string{{"get", "svc", "-o", "wide"}, {"get", "svc", "-A"}, {"get", "svc", "service-for-pods"}} {
		out := k("", args...)
		t.Logf("kubectl %s:\n%s", strings.Join(args, " "), out)
		if !strings.Contains(out, ip) {
			t.Fatalf("kubectl %s lacks %s:\n%s", strings.Join(args, " "), ip, out)
		}
	}
	if out := k("", "get", "svc", "-o", "wide"); !strings.Contains(out, "SELECTOR") || !strings.Contains(out, "app=sise") {
		t.Fatalf("kubectl get svc -o wide lacks the selector:\n%s", out)
	}
	if out := k("", "get", "svc", "-A"); !strings.Contains(out, "NAMESPACE") || !strings.Contains(out, "default") {
		t.Fatalf("kubectl get svc -A lacks the namespace:\n%s", out)
	}
	cols := k("", "get", "svc", "-o", "custom-columns=NAME:.metadata.name,TYPE:.spec.type,CLUSTER-IP:.spec.clusterIP,PORT:.spec.ports[0].port")
	if !strings.Contains(cols, ip) || !strings.Contains(cols, "10.96.0.1") {
		t.Fatalf("kubectl get svc custom columns lack %s and 10.96.0.1:\n%s", ip, cols)
	}
	t.Logf("kubectl get svc -o custom-columns:\n%s", cols)
	eps := k("", "get", "endpoints")
	if !strings.Contains(eps, "ENDPOINTS") || !strings.Contains(eps, "kubernetes") || !strings.Contains(eps, s.addr) {
		t.Fatalf("kubectl get endpoints lacks the kubernetes Endpoints at %s:\n%s", s.addr, eps)
	}
	t.Logf("kubectl get endpoints:\n%s", eps)
	port := k("", "get", "svc", "service-disc", "-o", "jsonpath={.spec.ports[0].targetPort} {.spec.ports[0].protocol} {.spec.type}")
	if port != "9876 TCP ClusterIP" {
		t.Fatalf("service-disc port %q, want targetPort 9876, TCP, type ClusterIP", port)
	}
}
