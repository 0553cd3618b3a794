package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestKubeDNSPublish: system:kube-dns may do what tug-dns --publish-service
// does (get, create and update the Service and Endpoints kube-system/kube-dns)
// and nothing more: not another Service in kube-system, not kube-dns in
// another namespace, no deletes.
func TestKubeDNSPublish(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	dnsCreds := s.issue(t, s.ca, "system:kube-dns")
	dns := s.as(t, dnsCreds)
	service := func(ns, name string) *corev1.Service {
		ip := ""
		if name == "kube-dns" {
			ip = "10.96.0.10"
		}
		return &corev1.Service{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"k8s-app": "kube-dns"}},
			Spec: &corev1.ServiceSpec{ClusterIp: ip, Selector: map[string]string{"k8s-app": "kube-dns"},
				Ports: []*corev1.ServicePort{{Name: "dns", Port: 53, Protocol: "UDP", TargetPort: structpb.NewNumberValue(53)}}}}
	}
	endpoints := func(ns, name string) *corev1.Endpoints {
		return &corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
			Subsets: []*corev1.EndpointSubset{{Addresses: []*corev1.EndpointAddress{{Ip: "127.0.0.1"}}, Ports: []*corev1.EndpointPort{{Name: "dns", Port: 53, Protocol: "UDP"}}}}}
	}

	t.Run("publishes its Service and Endpoints", func(t *testing.T) {
		get := &metav1.GetOptions{Namespace: "kube-system", Name: "kube-dns"}
		_, err := dns.Services().Get(ctx(t), get)
		wantGRPC(t, err, codes.NotFound, `services "kube-dns" not found`)
		if _, err := dns.Services().Create(ctx(t), service("kube-system", "kube-dns")); err != nil {
			t.Fatalf("create the kube-dns Service: %v", err)
		}
		svc, err := dns.Services().Get(ctx(t), get)
		if err != nil {
			t.Fatal(err)
		}
		svc.Metadata.Labels["kubernetes.io/name"] = "CoreDNS"
		if _, err := dns.Services().Update(ctx(t), svc); err != nil {
			t.Fatalf("update the kube-dns Service: %v", err)
		}
		if _, err := dns.Endpoints().Create(ctx(t), endpoints("kube-system", "kube-dns")); err != nil {
			t.Fatalf("create the kube-dns Endpoints: %v", err)
		}
		ep, err := dns.Endpoints().Get(ctx(t), get)
		if err != nil {
			t.Fatal(err)
		}
		ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, &corev1.EndpointAddress{Ip: "127.0.0.2"})
		if _, err := dns.Endpoints().Update(ctx(t), ep); err != nil {
			t.Fatalf("update the kube-dns Endpoints: %v", err)
		}
		// kubectl-style PATCH over REST, as the DNS user.
		if code, body := patchAs(t, s, dnsCreds, "/api/v1/namespaces/kube-system/services/kube-dns"); code != http.StatusOK {
			t.Fatalf("patch the kube-dns Service: %d %s", code, body)
		}
	})

	t.Run("cannot touch another Service", func(t *testing.T) {
		if _, err := s.cs.Services().Create(ctx(t), service("kube-system", "other")); err != nil {
			t.Fatal(err)
		}
		other, err := s.cs.Services().Get(ctx(t), &metav1.GetOptions{Namespace: "kube-system", Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		other.Metadata.Labels["hijacked"] = "yes"
		_, err = dns.Services().Update(ctx(t), other)
		wantGRPC(t, err, codes.PermissionDenied, `services "other" is forbidden: User "system:kube-dns" cannot update resource "services" in API group "" in the namespace "kube-system"`)
		_, err = dns.Services().Delete(ctx(t), &metav1.DeleteOptions{Namespace: "kube-system", Name: "kube-dns"})
		wantGRPC(t, err, codes.PermissionDenied, `cannot delete resource "services"`)
		_, err = dns.Endpoints().Delete(ctx(t), &metav1.DeleteOptions{Namespace: "kube-system", Name: "other"})
		wantGRPC(t, err, codes.PermissionDenied, `cannot delete resource "endpoints"`)
		_, err = dns.Services().Create(ctx(t), service("default", "kube-dns"))
		wantGRPC(t, err, codes.PermissionDenied, `cannot create resource "services" in API group "" in the namespace "default"`)
		_, err = dns.Endpoints().Create(ctx(t), endpoints("default", "kube-dns"))
		wantGRPC(t, err, codes.PermissionDenied, `cannot create resource "endpoints" in API group "" in the namespace "default"`)
		_, err = dns.Pods().Create(ctx(t), pod("kube-system", "p", nil))
		wantGRPC(t, err, codes.PermissionDenied, `cannot create resource "pods"`)
		if code, body := patchAs(t, s, dnsCreds, "/api/v1/namespaces/kube-system/services/other"); code != http.StatusForbidden ||
			!strings.Contains(body, `User \"system:kube-dns\" cannot patch resource \"services\"`) {
			t.Fatalf("patch of another Service = %d %s, want 403", code, body)
		}
		// It still reads every Service (it serves their records).
		if _, err := dns.Services().List(ctx(t), &metav1.ListOptions{}); err != nil {
			t.Fatalf("list services: %v", err)
		}
	})
}

// patchAs sends a JSON merge patch of a label with c's credentials.
func patchAs(t *testing.T, s *server, c creds, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPatch, s.base+path, strings.NewReader(`{"metadata":{"labels":{"patched":"yes"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := s.httpClient(t, c).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
