package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func TestTarget(t *testing.T) {
	tests := []struct {
		server, target string
		secure         bool
		wantErr        string
	}{
		{server: "http://127.0.0.1:6443", target: "127.0.0.1:6443"},
		{server: "127.0.0.1:6443", target: "127.0.0.1:6443"},
		{server: "https://api.example:6443", target: "api.example:6443", secure: true},
		{server: "https://api.example", target: "api.example:443", secure: true},
		{server: "http://[::1]:80/", target: "[::1]:80"},
		{server: "ftp://x:1", wantErr: "neither http nor https"},
		{server: "localhost", wantErr: "host:port"},
		{server: "https://h:1/prefix", wantErr: "path"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			target, secure, err := Target(tt.server)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Target error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || target != tt.target || secure != tt.secure {
				t.Fatalf("Target = %q, %v, %v; want %q, %v", target, secure, err, tt.target, tt.secure)
			}
		})
	}
}

// healthServer serves the gRPC health service on 127.0.0.1 and records the
// authorization metadata and peer certificates of each call.
type healthServer struct {
	addr string
	mu   sync.Mutex
	auth []string
	cns  []string
}

func startHealth(t *testing.T, opts ...grpc.ServerOption) *healthServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &healthServer{addr: lis.Addr().String()}
	opts = append(opts, grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		hs.mu.Lock()
		hs.auth = append(hs.auth, strings.Join(md.Get("authorization"), ","))
		if p, ok := peer.FromContext(ctx); ok {
			if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
				hs.cns = append(hs.cns, ti.State.PeerCertificates[0].Subject.CommonName)
			}
		}
		hs.mu.Unlock()
		return h(ctx, req)
	}))
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis) //nolint:errcheck
	t.Cleanup(srv.Stop)
	return hs
}

func check(t *testing.T, cfg *Config, opts ...grpc.DialOption) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := Dial(ctx, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, want SERVING", resp.GetStatus())
	}
	return err
}

func TestDialPlaintextWithToken(t *testing.T) {
	hs := startHealth(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, server := range []string{"http://" + hs.addr, hs.addr} {
		if err := check(t, &Config{Server: server, Token: "s3cret"}, m.DialOptions()...); err != nil {
			t.Fatalf("Check over %s: %v", server, err)
		}
	}
	if err := check(t, &Config{Server: hs.addr}); err != nil {
		t.Fatal(err)
	}
	hs.mu.Lock()
	got := strings.Join(hs.auth, "|")
	hs.mu.Unlock()
	if got != "Bearer s3cret|Bearer s3cret|" {
		t.Fatalf("authorization seen by the server = %q, want the token twice then none", got)
	}
	want := `
# HELP tugboat_client_requests_total RPCs made to the apiserver, by full method and gRPC code.
# TYPE tugboat_client_requests_total counter
tugboat_client_requests_total{code="OK",method="/grpc.health.v1.Health/Check"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tugboat_client_requests_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Fatalf("duration series = %d, want 1", n)
	}
	// A second Metrics on the same registry shares the collectors.
	if _, err := NewMetrics(reg); err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
}

// pki is a throw-away CA with a server certificate for 127.0.0.1 and a
// client certificate.
type pki struct {
	caPEM                 []byte
	serverCert            tls.Certificate
	clientCert, clientKey []byte
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	caKey := mustKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tugboat-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, []byte) {
		key := mustKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	p := &pki{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	sc, sk := issue("apiserver", x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	if p.serverCert, err = tls.X509KeyPair(sc, sk); err != nil {
		t.Fatal(err)
	}
	p.clientCert, p.clientKey = issue("admin", x509.ExtKeyUsageClientAuth)
	return p
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDialTLS(t *testing.T) {
	p := newPKI(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	hs := startHealth(t, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.serverCert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	})))
	server := "https://" + hs.addr

	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		wantCN  string
		wantTok string
	}{
		{name: "trusted CA", cfg: Config{Server: server, CAData: p.caPEM}},
		{name: "client certificate and token", cfg: Config{Server: server, CAData: p.caPEM, CertData: p.clientCert, KeyData: p.clientKey, Token: "tok"}, wantCN: "admin", wantTok: "Bearer tok"},
		{name: "unknown CA", cfg: Config{Server: server}, wantErr: true},
		{name: "insecure skip verify", cfg: Config{Server: server, InsecureSkipTLSVerify: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs.mu.Lock()
			hs.auth, hs.cns = nil, nil
			hs.mu.Unlock()
			err := check(t, &tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Check succeeded against an untrusted server")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			hs.mu.Lock()
			defer hs.mu.Unlock()
			if got := strings.Join(hs.cns, ","); got != tt.wantCN {
				t.Fatalf("client certificate CN seen = %q, want %q", got, tt.wantCN)
			}
			if got := strings.Join(hs.auth, ","); got != tt.wantTok {
				t.Fatalf("authorization seen = %q, want %q", got, tt.wantTok)
			}
		})
	}
	if _, err := Dial(context.Background(), &Config{Server: server, CAData: []byte("junk")}); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Fatalf("Dial with a junk CA = %v, want a PEM error", err)
	}
}
