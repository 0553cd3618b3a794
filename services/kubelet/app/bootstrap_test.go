package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
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
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

const testToken = "abcdef.0123456789abcdef"

// fakeSigner is the apiserver's CSR service with the controller-manager's
// approver and signer behind it: it checks the bearer token, and answers
// the watch with a certificate signed by ca, a denial, or nothing. It also
// takes a client certificate from ca, and records who created the request.
type fakeSigner struct {
	certificatesv1.UnimplementedCertificateSigningRequestServiceServer
	ca      *pki.CA
	outcome string // "sign", "deny", "pending"
	creates atomic.Int32
	got     atomic.Pointer[certificatesv1.CertificateSigningRequest]
	// user is who created the last request: system:node:<name> for a
	// client certificate, system:bootstrap:<id> for the token.
	user atomic.Value
}

func (f *fakeSigner) authenticate(ctx context.Context) (string, error) {
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			return ti.State.VerifiedChains[0][0].Subject.CommonName, nil
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if a := md.Get("authorization"); len(a) != 1 || a[0] != "Bearer "+testToken {
		return "", status.Error(codes.Unauthenticated, "Unauthorized: invalid bootstrap token")
	}
	return "system:bootstrap:abcdef", nil
}

func (f *fakeSigner) Create(ctx context.Context, r *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, error) {
	user, err := f.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	f.user.Store(user)
	f.creates.Add(1)
	f.got.Store(r)
	r.Metadata.ResourceVersion = "1"
	return r, nil
}

func (f *fakeSigner) Watch(o *metav1.ListOptions, s grpc.ServerStreamingServer[certificatesv1.CertificateSigningRequestWatchEvent]) error {
	if _, err := f.authenticate(s.Context()); err != nil {
		return err
	}
	r := f.got.Load()
	if o.GetFieldSelector() != "metadata.name="+r.GetMetadata().GetName() {
		return status.Errorf(codes.InvalidArgument, "watch of %q", o.GetFieldSelector())
	}
	switch f.outcome {
	case "other-ca":
		req, err := pki.ParseCSR(r.GetSpec().GetRequest())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		other, err := pki.NewCA("rogue-ca")
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		cert, err := other.SignCSR(req, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.KeyUsageDigitalSignature, time.Hour)
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		r.Status = &certificatesv1.CertificateSigningRequestStatus{Certificate: pki.EncodeCert(cert)}
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
func startSigner(t *testing.T, f *fakeSigner, token string, tweak ...func(*config.KubeconfigSpec)) (bootstrapKubeconfig string) {
	t.Helper()
	serving, err := f.ca.IssueServing("apiserver", pki.ServingNames{IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serving.TLSCertificate()}, MinVersion: tls.VersionTLS12,
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: f.ca.Pool(),
	})))
	certificatesv1.RegisterCertificateSigningRequestServiceServer(gs, f)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	path := filepath.Join(t.TempDir(), "bootstrap-kubeconfig")
	spec := config.KubeconfigSpec{Server: "https://" + lis.Addr().String(), CAData: f.ca.CertPEM(), Token: token}
	for _, fn := range tweak {
		fn(&spec)
	}
	if err := config.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBootstrap(t *testing.T) {
	ca, err := pki.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name     string
		outcome  string
		token    string
		spec     func(*config.KubeconfigSpec)
		insecure bool
		// existing is the --kubeconfig there before, nil: none.
		existing []byte
		renewed  bool // an existing kubeconfig is replaced
		// atSigner points the existing kubeconfig at the fake apiserver.
		atSigner bool
		// wantUser is who must have sent the request ("" when none).
		wantUser string
		wantWarn string
		timeout  time.Duration
		// requestTimeout replaces the kubelet's bound on a request.
		requestTimeout time.Duration
		wantErr        []string
	}{
		{name: "issued", outcome: "sign", token: testToken, wantUser: "system:bootstrap:abcdef"},
		{name: "valid existing kubeconfig is used as is", outcome: "sign", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-time.Hour), now.Add(9*time.Hour))},
		{name: "expired kubeconfig is renewed", outcome: "sign", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-2*time.Hour), now.Add(-time.Hour)), renewed: true},
		{name: "kubeconfig in its last 10% is renewed with its own certificate", outcome: "sign", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-95*time.Minute), now.Add(5*time.Minute)), atSigner: true, renewed: true, wantUser: "system:node:n1"},
		{name: "refused renewal keeps the valid certificate", outcome: "deny", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-95*time.Minute), now.Add(5*time.Minute)), atSigner: true, wantUser: "system:node:n1", wantWarn: "Denied NotMyNode"},
		{name: "renewal never approved keeps the valid certificate", outcome: "pending", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-95*time.Minute), now.Add(5*time.Minute)), atSigner: true, wantUser: "system:node:n1", requestTimeout: 300 * time.Millisecond, wantWarn: "not approved and signed within 300ms"},
		{name: "expired kubeconfig at the signer is renewed by bootstrap token", outcome: "sign", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-2*time.Hour), now.Add(-time.Hour)), atSigner: true, renewed: true, wantUser: "system:bootstrap:abcdef"},
		{name: "bootstrap never approved times out", outcome: "pending", token: testToken, requestTimeout: 300 * time.Millisecond, wantErr: []string{"node n1", "not approved and signed within 300ms"}},
		{name: "unparsable kubeconfig is renewed", outcome: "sign", token: testToken, existing: []byte("mine"), renewed: true},
		{name: "kubeconfig whose key does not pair is renewed", outcome: "sign", token: testToken, existing: strayKeyKubeconfig(t, ca), renewed: true},
		{name: "denied", outcome: "deny", token: testToken, wantErr: []string{"node n1", "refused", "Denied NotMyNode: an admin said no"}},
		{name: "certificate from another CA", outcome: "other-ca", token: testToken, wantErr: []string{"node n1", "will not use", "does not chain to the trusted CA"}},
		{name: "certificate from another CA leaves an expired kubeconfig alone", outcome: "other-ca", token: testToken, existing: nodeKubeconfig(t, ca, "n1", now.Add(-2*time.Hour), now.Add(-time.Hour)), wantErr: []string{"does not chain to the trusted CA"}},
		{name: "unknown token", outcome: "sign", token: "zzzzzz.0123456789abcdef", wantErr: []string{"node n1", "refused the bootstrap credentials", "invalid bootstrap token"}},
		{name: "never signed, ctx ends", outcome: "pending", token: testToken, timeout: 500 * time.Millisecond, wantErr: []string{"node n1", "context deadline exceeded"}},
		{name: "bootstrap kubeconfig without CA", outcome: "sign", token: testToken, spec: func(s *config.KubeconfigSpec) { s.CAData = nil; s.InsecureSkipTLSVerify = true }, wantErr: []string{"--bootstrap-kubeconfig", "insecure-skip-tls-verify"}},
		{name: "bootstrap kubeconfig without CA data", outcome: "sign", token: testToken, spec: func(s *config.KubeconfigSpec) { s.CAData = nil }, wantErr: []string{"--bootstrap-kubeconfig", "no certificate-authority data"}},
		{name: "bootstrap kubeconfig skipping verification", outcome: "sign", token: testToken, spec: func(s *config.KubeconfigSpec) { s.InsecureSkipTLSVerify = true }, wantErr: []string{"--bootstrap-kubeconfig", "insecure-skip-tls-verify is set"}},
		{name: "skipping verification with --insecure", outcome: "sign", token: testToken, spec: func(s *config.KubeconfigSpec) { s.InsecureSkipTLSVerify = true }, insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSigner{ca: ca, outcome: tt.outcome}
			cfg := DefaultConfig()
			cfg.NodeName = "n1"
			cfg.Insecure = tt.insecure
			var tweaks []func(*config.KubeconfigSpec)
			if tt.spec != nil {
				tweaks = append(tweaks, tt.spec)
			}
			cfg.BootstrapKubeconfig = startSigner(t, f, tt.token, tweaks...)
			cfg.Kubeconfig = filepath.Join(t.TempDir(), "etc", "kubelet.conf")
			if tt.requestTimeout > 0 {
				defer func(d time.Duration) { requestTimeout = d }(requestTimeout)
				requestTimeout = tt.requestTimeout
			}
			if tt.atSigner {
				boot, err := config.Load(cfg.BootstrapKubeconfig, "")
				if err != nil {
					t.Fatal(err)
				}
				tt.existing = bytes.ReplaceAll(tt.existing, []byte("https://127.0.0.1:1"), []byte(boot.Server))
			}
			if tt.existing != nil {
				if err := os.MkdirAll(filepath.Dir(cfg.Kubeconfig), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cfg.Kubeconfig, tt.existing, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			core, logs := observer.New(zap.WarnLevel)
			err := bootstrap(ctx, cfg, zap.New(core))
			if u, _ := f.user.Load().(string); tt.wantUser != "" && u != tt.wantUser {
				t.Errorf("request sent by %q, want %q", u, tt.wantUser)
			}
			if tt.wantWarn != "" {
				if err != nil {
					t.Fatalf("bootstrap failed (%v), want a warning", err)
				}
				if warned := warnings(logs); !strings.Contains(warned, tt.wantWarn) || !strings.Contains(warned, "starting with the current certificate") {
					t.Errorf("warnings %q do not say %q", warned, tt.wantWarn)
				}
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("bootstrap succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				b, serr := os.ReadFile(cfg.Kubeconfig)
				switch {
				case tt.existing == nil && serr == nil:
					t.Errorf("a failed bootstrap wrote %s", cfg.Kubeconfig)
				case tt.existing != nil && string(b) != string(tt.existing):
					t.Errorf("a failed bootstrap changed %s", cfg.Kubeconfig)
				}
				if strings.Contains(tt.name, "bootstrap kubeconfig") && f.creates.Load() != 0 {
					t.Errorf("%d requests sent with a refused bootstrap kubeconfig, want none", f.creates.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.existing != nil && !tt.renewed {
				want := int32(0)
				if tt.wantWarn != "" {
					want = 1
				}
				if b, _ := os.ReadFile(cfg.Kubeconfig); string(b) != string(tt.existing) || f.creates.Load() != want {
					t.Fatalf("kubeconfig changed after %d requests, want it untouched and %d", f.creates.Load(), want)
				}
				return
			}
			if f.creates.Load() != 1 {
				t.Errorf("%d requests, want 1", f.creates.Load())
			}
			checkBootstrapped(t, cfg, ca)
		})
	}
}

// warnings joins the logged warnings with their errors.
func warnings(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		b.WriteString(e.Message)
		for _, f := range e.Context {
			if f.Interface != nil {
				fmt.Fprintf(&b, " %v", f.Interface)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestCheckCredentials: without --bootstrap-kubeconfig, a kubeconfig
// whose client certificate is no longer valid stops the kubelet with a
// clear error; one near its end only warns.
func TestCheckCredentials(t *testing.T) {
	ca, err := pki.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name     string
		file     []byte
		wantErr  []string
		wantWarn bool
	}{
		{name: "valid", file: nodeKubeconfig(t, ca, "n1", now.Add(-time.Hour), now.Add(9*time.Hour))},
		{name: "near its end", file: nodeKubeconfig(t, ca, "n1", now.Add(-95*time.Minute), now.Add(5*time.Minute)), wantWarn: true},
		{name: "expired", file: nodeKubeconfig(t, ca, "n1", now.Add(-2*time.Hour), now.Add(-time.Hour)), wantErr: []string{"system:node:n1", "not now", "no --bootstrap-kubeconfig"}},
		{name: "key does not pair", file: strayKeyKubeconfig(t, ca), wantErr: []string{"do not pair", "no --bootstrap-kubeconfig"}},
		{name: "token, no certificate", file: tokenKubeconfig(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.NodeName = "n1"
			cfg.Kubeconfig = filepath.Join(t.TempDir(), "kubelet.conf")
			if err := os.WriteFile(cfg.Kubeconfig, tt.file, 0o600); err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zap.WarnLevel)
			err := bootstrap(context.Background(), cfg, zap.New(core))
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
			if got := logs.FilterMessageSnippet("expires soon").Len() > 0; got != tt.wantWarn {
				t.Errorf("warned %v, want %v", got, tt.wantWarn)
			}
		})
	}
}

// nodeKubeconfig is a kubeconfig for node with a client certificate from
// ca valid from nb to na.
func nodeKubeconfig(t *testing.T, ca *pki.CA, node string, nb, na time.Time) []byte {
	t.Helper()
	certPEM, keyPEM := nodeCert(t, ca, node, nb, na)
	return kubeconfigBytes(t, config.KubeconfigSpec{Server: "https://127.0.0.1:1", CAData: ca.CertPEM(), CertData: certPEM, KeyData: keyPEM})
}

// strayKeyKubeconfig holds a valid certificate with another one's key.
func strayKeyKubeconfig(t *testing.T, ca *pki.CA) []byte {
	t.Helper()
	now := time.Now()
	certPEM, _ := nodeCert(t, ca, "n1", now.Add(-time.Hour), now.Add(9*time.Hour))
	_, keyPEM := nodeCert(t, ca, "n1", now.Add(-time.Hour), now.Add(9*time.Hour))
	return kubeconfigBytes(t, config.KubeconfigSpec{Server: "https://127.0.0.1:1", CAData: ca.CertPEM(), CertData: certPEM, KeyData: keyPEM})
}

func tokenKubeconfig(t *testing.T) []byte {
	t.Helper()
	return kubeconfigBytes(t, config.KubeconfigSpec{Server: "https://127.0.0.1:1", CAData: []byte("x"), Token: "t"})
}

func kubeconfigBytes(t *testing.T, spec config.KubeconfigSpec) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := config.Write(path, spec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nodeCert is a client certificate of node from ca, valid from nb to na.
func nodeCert(t *testing.T, ca *pki.CA, node string, nb, na time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: nb, NotAfter: na,
		Subject:  pkix.Name{CommonName: pki.NodeUser(node), Organization: []string{pki.GroupNodes}},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = pki.EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pki.EncodeCert(c), keyPEM
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
