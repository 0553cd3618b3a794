package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	names := Names("127.0.0.1", "host1", "node1", "127.0.0.1")
	first, err := LoadOrCreate(dir, names)
	if err != nil {
		t.Fatal(err)
	}
	d := pki.Dir(dir)
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("pki directory mode %#o, want 0700", m)
	}
	if m := mode(t, d.KeyPath(Name)); m != 0o600 {
		t.Errorf("key mode %#o, want 0600", m)
	}
	leaf := first.Leaf
	if len(first.Certificate) != 2 {
		t.Fatalf("chain of %d certificates, want the serving one and its CA", len(first.Certificate))
	}
	ca, err := x509.ParseCertificate(first.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, host := range []string{"127.0.0.1", "host1", "node1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}

	t.Run("reloaded when present and fit", func(t *testing.T) {
		again, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		if again.Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 || len(again.Certificate) != 2 {
			t.Error("a fit certificate was replaced")
		}
	})
	t.Run("replaced for a new name", func(t *testing.T) {
		moved, err := LoadOrCreate(dir, Names("127.0.0.2", "host1", "node1"))
		if err != nil {
			t.Fatal(err)
		}
		if moved.Leaf.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			t.Error("the certificate was kept though it lacks the new address")
		}
	})
	t.Run("replaced near its expiry", func(t *testing.T) {
		other, err := pki.NewCA("")
		if err != nil {
			t.Fatal(err)
		}
		short, err := other.IssueServing("k", names, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Write(Name, short); err != nil {
			t.Fatal(err)
		}
		fresh, err := LoadOrCreate(dir, names)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(fresh.Leaf.NotAfter) < 300*24*time.Hour {
			t.Errorf("certificate valid until %v, want a new year-long one", fresh.Leaf.NotAfter)
		}
	})
	t.Run("a key readable by others is refused", func(t *testing.T) {
		if err := os.Chmod(d.KeyPath(Name), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreate(dir, names)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("LoadOrCreate = %v, want a refusal naming the key's mode", err)
		}
		if _, err := LoadFiles(d.CertPath(Name), d.KeyPath(Name)); err == nil || !strings.Contains(err.Error(), "--tls-private-key-file") {
			t.Fatalf("LoadFiles = %v, want a refusal naming the flag", err)
		}
	})
}

// serve runs a health service behind Auth (trusting clientCA) on loopback
// and returns its address and the serving CA.
func serve(t *testing.T, clientCA *pki.CA) (string, *x509.CertPool) {
	t.Helper()
	cert, err := LoadOrCreate(filepath.Join(t.TempDir(), "pki"), Names("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuth(clientCA.CertPEM())
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(auth.TLSConfig(cert))),
		grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(auth.StreamServerInterceptor()))
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	ca, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return lis.Addr().String(), roots
}

func TestAuth(t *testing.T) {
	clusterCA, err := pki.NewCA("cluster")
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	addr, roots := serve(t, clusterCA)
	issue := func(ca *pki.CA, user string, groups ...string) []tls.Certificate {
		kp, err := ca.IssueClient(user, groups, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{kp.TLSCertificate()}
	}
	tests := []struct {
		name     string
		certs    []tls.Certificate
		wantCode codes.Code
		wantMsg  string
	}{
		{"the apiserver's kubelet client", issue(clusterCA, APIServerUser, pki.GroupMasters), codes.OK, ""},
		{"the apiserver's user alone", issue(clusterCA, APIServerUser), codes.OK, ""},
		{"an admin", issue(clusterCA, "kubernetes-admin", pki.GroupMasters), codes.OK, ""},
		{"no certificate", nil, codes.Unauthenticated, "no client certificate"},
		{"a certificate of another CA", issue(otherCA, APIServerUser, pki.GroupMasters), codes.Unauthenticated, "not signed by the kubelet's client CA"},
		{"another user", issue(clusterCA, "system:node:n2", pki.GroupNodes), codes.PermissionDenied, `user "system:node:n2" (groups ["system:nodes"]) may not use the kubelet API`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: tt.certs, MinVersion: tls.VersionTLS12})))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			client := healthpb.NewHealthClient(conn)
			_, err = client.Check(ctx, &healthpb.HealthCheckRequest{})
			check := func(call string, err error) {
				st := status.Convert(err)
				if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
					t.Errorf("%s: %v, want %v with %q", call, err, tt.wantCode, tt.wantMsg)
				}
			}
			check("unary", err)
			w, err := client.Watch(ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = w.Recv()
			}
			check("stream", err)
		})
	}
}
