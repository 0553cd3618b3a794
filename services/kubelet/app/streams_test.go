package app

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/observe"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestKubeletServer: the kubelet API the apiserver dials is TLS with the
// kubeconfig's CA as client CA, and lets in only the apiserver's kubelet
// client; --insecure is plaintext for anyone. The service behind it is
// unimplemented: a call that gets through answers Unimplemented.
func TestKubeletServer(t *testing.T) {
	ca, err := pki.NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	client := func(user string, groups ...string) grpc.DialOption {
		kp, err := ca.IssueClient(user, groups, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// The apiserver does not verify a kubelet's self-signed certificate
		// unless given --kubelet-certificate-authority.
		return grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{kp.TLSCertificate()}, MinVersion: tls.VersionTLS12})) //nolint:gosec // as the apiserver dials
	}
	noCert := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})) //nolint:gosec // as above
	plain := grpc.WithTransportCredentials(insecure.NewCredentials())
	tests := []struct {
		name     string
		insecure bool
		dial     grpc.DialOption
		want     codes.Code
	}{
		{"the apiserver", false, client("kube-apiserver-kubelet-client", pki.GroupMasters), codes.Unimplemented},
		{"no client certificate", false, noCert, codes.Unauthenticated},
		{"a node", false, client("system:node:n2", pki.GroupNodes), codes.PermissionDenied},
		{"plaintext to a TLS kubelet", false, plain, codes.Unavailable},
		{"--insecure: plaintext for anyone", true, plain, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.NodeName, cfg.RootDir, cfg.Insecure = "n1", t.TempDir(), tt.insecure
			gs, err := newKubeletServer(cfg, ca.CertPEM(), kubeletv1.UnimplementedKubeletServiceServer{}, observe.NewServer(), zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = gs.Serve(lis) }()
			defer gs.Stop()
			conn, err := grpc.NewClient(lis.Addr().String(), tt.dial)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := kubeletv1.NewKubeletServiceClient(conn).Log(ctx, &corev1.PodLogOptions{Namespace: "default", Name: "p"})
			if err == nil {
				_, err = s.Recv()
			}
			if status.Code(err) != tt.want {
				t.Fatalf("Log: %v, want %v", err, tt.want)
			}
		})
	}
}
