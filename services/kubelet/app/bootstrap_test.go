package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const testToken = "abcdef.0123456789abcdef"

// fakeSigner is the apiserver's CSR service with the controller-manager's
// approver and signer behind it: it checks the bearer token, and answers
// the watch with a certificate signed by ca, a denial, or nothing.
type fakeSigner struct {
	certificatesv1.UnimplementedCertificateSigningRequestServiceServer
	ca      *pki.CA
	outcome string // "sign", "deny", "pending"
	creates atomic.Int32
	got     atomic.Pointer[certificatesv1.CertificateSigningRequest]
}

func (f *fakeSigner) authenticate(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer "+testToken {
		return status.Error(codes.Unauthenticated, "Unauthorized: invalid bootstrap token")
	}
	return nil
}

func (f *fakeSigner) Create(ctx context.Context, r *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, error) {
	if err := f.authenticate(ctx); err != nil {
		return nil, err
	}
	f.creates.Add(1)
	f.got.Store(r)
	r.Metadata.ResourceVersion = "1"
	return r, nil
}

func (f *fakeSigner) Watch(o *metav1.ListOptions, s grpc.ServerStreamingServer[certificatesv1.CertificateSigningRequestWatchEvent]) error {
	if err := f.authenticate(s.Context()); err != nil {
		return err
	}
	r := f.got.Load()
	if o.GetFieldSelector() != "metadata.name="+r.GetMetadata().GetName() {
		return status.Errorf(codes.InvalidArgument, "watch of %q", o.GetFieldSelector())
	}
	switch f.outcome {
	case "pending":
		<-s.Context().Done()
		return s.Context().Err()
	case "deny":
		r.Status = &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{{Type: "Denied", Status: "True", Reason: "NotMyNode", Message: "an admin said no"}}}
	default:
		req, err := pki.ParseCSR(r.GetSpec().GetRequest())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		cert, err := f.ca.SignCSR(req, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature, time.Hour)
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		r.Status = &certificatesv1.CertificateSigningRequestStatus{Certificate: pki.EncodeCert(cert)}
	}
	return s.Send(&certificatesv1.CertificateSigningRequestWatchEvent{Type: "MODIFIED", Object: r})
}

// startSigner serves f over TLS on loopback and writes a bootstrap
// kubeconfig for it with token.
func startSigner(t *testing.T, f *fakeSigner, token string) (bootstrapKubeconfig string) {
	t.Helper()
	serving, err := f.ca.IssueServing("apiserver", pki.ServingNames{IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serving.TLSCertificate()}, MinVersion: tls.VersionTLS12})))
	certificatesv1.RegisterCertificateSigningRequestServiceServer(gs, f)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	path := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	if err := config.Write(path, config.KubeconfigSpec{Server: "https://" + lis.Addr().String(), CAData: f.ca.CertPEM(), Token: token}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBootstrap(t *testing.T) {
	ca, err := pki.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		outcome  string
		token    string
		existing bool
		timeout  time.Duration
		wantErr  []string
	}{
		{name: "issued", outcome: "sign", token: testToken},
		{name: "existing kubeconfig is used as is", outcome: "sign", token: testToken, existing: true},
		{name: "denied", outcome: "deny", token: testToken, wantErr: []string{"node n1", "refused", "Denied NotMyNode: an admin said no"}},
		{name: "unknown token", outcome: "sign", token: "zzzzzz.0123456789abcdef", wantErr: []string{"node n1", "refused the bootstrap credentials", "invalid bootstrap token"}},
		{name: "never signed, ctx ends", outcome: "pending", token: testToken, timeout: 500 * time.Millisecond, wantErr: []string{"node n1", "context deadline exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSigner{ca: ca, outcome: tt.outcome}
			cfg := DefaultConfig()
			cfg.NodeName = "n1"
			cfg.BootstrapKubeconfig = startSigner(t, f, tt.token)
			cfg.Kubeconfig = filepath.Join(t.TempDir(), "etc", "kubelet.conf")
			if tt.existing {
				if err := os.MkdirAll(filepath.Dir(cfg.Kubeconfig), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cfg.Kubeconfig, []byte("mine"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			err := bootstrap(ctx, cfg, zap.NewNop())
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("bootstrap succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if _, serr := os.Stat(cfg.Kubeconfig); serr == nil {
					t.Errorf("a failed bootstrap wrote %s", cfg.Kubeconfig)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.existing {
				if b, _ := os.ReadFile(cfg.Kubeconfig); string(b) != "mine" || f.creates.Load() != 0 {
					t.Fatalf("kubeconfig %q after %d requests, want it untouched and none", b, f.creates.Load())
				}
				return
			}
			checkBootstrapped(t, cfg, ca)
		})
	}
}

// checkBootstrapped checks the written kubeconfig: private files, the
// bootstrap kubeconfig's server and CA, the node's certificate and key.
func checkBootstrapped(t *testing.T, cfg Config, ca *pki.CA) {
	t.Helper()
	for p, want := range map[string]os.FileMode{cfg.Kubeconfig: 0o600, filepath.Dir(cfg.Kubeconfig): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %#o, want %#o", p, st.Mode().Perm(), want)
		}
	}
	got, err := config.Load(cfg.Kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := config.Load(cfg.BootstrapKubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Server != boot.Server || string(got.CAData) != string(boot.CAData) || got.Token != "" {
		t.Errorf("kubeconfig server %q CA %d bytes token %q, want the bootstrap's %q, %d bytes, no token", got.Server, len(got.CAData), got.Token, boot.Server, len(boot.CAData))
	}
	pair, err := tls.X509KeyPair(got.CertData, got.KeyData)
	if err != nil {
		t.Fatalf("certificate and key: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("certificate does not verify: %v", err)
	}
	if cert.Subject.CommonName != "system:node:n1" || !slices.Equal(cert.Subject.Organization, []string{pki.GroupNodes}) {
		t.Errorf("certificate for %v, want system:node:n1 in system:nodes", cert.Subject)
	}
}
