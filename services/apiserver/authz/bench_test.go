package authz

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	rbacv1 "github.com/tugboat-sh/tugboat/gen/tugboat/rbac/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/grpc"
)

// BenchmarkGuardCreate is the authorisation of one pod create by a user
// bound to edit, from the decision cache, in parallel.
func BenchmarkGuardCreate(b *testing.B) {
	z := benchRBAC()
	g := NewGuard(Chain{Masters{}, &Node{podNode: map[string]string{}, refs: map[string]map[string]int{}}, z}, nil, nil)
	in := g.UnaryServerInterceptor()
	ctx := authn.WithUser(context.Background(), &authn.User{Name: "bench-user", Groups: []string{"system:authenticated"}})
	info := &grpc.UnaryServerInfo{FullMethod: "/tugboat.core.v1.PodService/Create"}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	h := func(context.Context, any) (any, error) { return nil, nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := in(ctx, pod, info, h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCall is one unary PodService.Create over gRPC on loopback, the
// handler answering at once (no storage): Plain is plaintext without
// interceptors; Secure is TLS (ECDSA P-256) with client-certificate
// authentication and RBAC for a user bound to edit. The difference is what
// security adds to every call, client and server together.
func BenchmarkCall(b *testing.B) {
	ca, err := pki.NewCA("")
	if err != nil {
		b.Fatal(err)
	}
	serving, err := ca.IssueServing("apiserver", pki.APIServerNames(nil, nil), 0)
	if err != nil {
		b.Fatal(err)
	}
	user, err := ca.IssueClient("bench-user", nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	userKey, err := user.KeyPEM()
	if err != nil {
		b.Fatal(err)
	}
	pod := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Spec: &corev1.PodSpec{Containers: []*corev1.Container{{Name: "web", Image: "registry.local/hello:1.0", Args: []string{"--listen=:8080"}}}}}
	for _, secure := range []bool{false, true} {
		name := "Plain"
		if secure {
			name = "Secure"
		}
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			opts := []grpc.ServerOption{grpc.Creds(authn.ServerCredentials())}
			cfg := &config.Config{Server: "http://" + ln.Addr().String()}
			if secure {
				ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{serving.TLSCertificate()},
					ClientAuth: tls.RequestClientCert, NextProtos: []string{"http/1.1", "h2"}})
				a := &authn.Authenticator{Certs: authn.NewCertAuthenticator(ca.Pool())}
				g := NewGuard(Chain{Masters{}, &Node{podNode: map[string]string{}, refs: map[string]map[string]int{}}, benchRBAC()}, nil, nil)
				opts = append(opts, grpc.ChainUnaryInterceptor(a.UnaryServerInterceptor(), g.UnaryServerInterceptor()))
				cfg = &config.Config{Server: "https://" + ln.Addr().String(), CAData: ca.CertPEM(), CertData: user.CertPEM(), KeyData: userKey}
			}
			srv := grpc.NewServer(opts...)
			corev1.RegisterPodServiceServer(srv, echoPods{})
			go func() { _ = srv.Serve(ln) }()
			defer srv.Stop()
			conn, err := config.Dial(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			pods := corev1.NewPodServiceClient(conn)
			if _, err := pods.Create(context.Background(), pod); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := pods.Create(context.Background(), pod); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// echoPods answers a create with the pod it got.
type echoPods struct {
	corev1.UnimplementedPodServiceServer
}

func (echoPods) Create(_ context.Context, p *corev1.Pod) (*corev1.Pod, error) { return p, nil }

// benchRBAC is the default policy with bench-user bound to edit in ns.
func benchRBAC() *RBAC {
	roles := map[string][]*rbacv1.PolicyRule{}
	for _, r := range DefaultClusterRoles() {
		roles[r.GetMetadata().GetName()] = r.GetRules()
	}
	z := &RBAC{decisions: map[string]Decision{}}
	z.snap = &snapshot{clusterRoles: roles, roles: map[string][]*rbacv1.PolicyRule{}, clusterBindings: DefaultClusterRoleBindings(),
		bindings: map[string][]*rbacv1.RoleBinding{"ns": {{Metadata: &metav1.ObjectMeta{Name: "b", Namespace: "ns"},
			RoleRef:  &rbacv1.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "edit"},
			Subjects: []*rbacv1.Subject{{Kind: "User", Name: "bench-user"}}}}}}
	z.snapGen = z.generation.Load()
	return z
}
