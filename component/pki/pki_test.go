package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIssue(t *testing.T) {
	ca, err := NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != defaultCACommonName {
		t.Fatalf("CA: IsCA=%v CN=%q", ca.Cert.IsCA, ca.Cert.Subject.CommonName)
	}
	names := APIServerNames([]string{"node-a"}, []net.IP{net.ParseIP("192.0.2.7")})
	serving, err := ca.IssueServing(apiserverCommonName, names, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("serving SANs", func(t *testing.T) {
		for _, d := range []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "node-a"} {
			if err := serving.Cert.VerifyHostname(d); err != nil {
				t.Errorf("VerifyHostname(%s): %v", d, err)
			}
		}
		for _, ip := range []string{"127.0.0.1", "10.96.0.1", "192.0.2.7"} {
			if err := serving.Cert.VerifyHostname(ip); err != nil {
				t.Errorf("VerifyHostname(%s): %v", ip, err)
			}
		}
		if err := serving.Cert.VerifyHostname("example.com"); err == nil {
			t.Error("serving certificate is valid for example.com")
		}
		if err := ca.Verify(serving.Cert, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("verify serving: %v", err)
		}
		if err := ca.Verify(serving.Cert, x509.ExtKeyUsageClientAuth); err == nil {
			t.Error("a serving certificate verifies as a client certificate")
		}
	})
	clients := []struct {
		user   string
		groups []string
	}{
		{"kubernetes-admin", []string{GroupMasters}},
		{UserScheduler, nil},
		{UserControllerManager, nil},
		{NodeUser("n1"), []string{GroupNodes}},
	}
	for _, c := range clients {
		t.Run("client "+c.user, func(t *testing.T) {
			kp, err := ca.IssueClient(c.user, c.groups, 0)
			if err != nil {
				t.Fatal(err)
			}
			if kp.Cert.Subject.CommonName != c.user || !slices.Equal(kp.Cert.Subject.Organization, c.groups) {
				t.Fatalf("subject %v, want CN=%s O=%v", kp.Cert.Subject, c.user, c.groups)
			}
			if err := ca.Verify(kp.Cert, x509.ExtKeyUsageClientAuth); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
	t.Run("client without user", func(t *testing.T) {
		if _, err := ca.IssueClient("", nil, 0); err == nil || !strings.Contains(err.Error(), "user name") {
			t.Fatalf("err = %v, want a user name error", err)
		}
	})
	t.Run("other CA refused", func(t *testing.T) {
		other, err := NewCA("other")
		if err != nil {
			t.Fatal(err)
		}
		kp, err := other.IssueClient("mallory", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := ca.Verify(kp.Cert, x509.ExtKeyUsageClientAuth); err == nil {
			t.Fatal("a certificate of another CA verified")
		}
	})
	t.Run("TLS handshake", func(t *testing.T) {
		admin, err := ca.IssueClient("kubernetes-admin", []string{GroupMasters}, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := handshake(t, ca, serving, admin)
		if got != "kubernetes-admin" {
			t.Fatalf("server saw client %q", got)
		}
	})
}

// handshake runs a TLS handshake over loopback and returns the client CN the server verified.
func handshake(t *testing.T, ca *CA, serving, client *KeyPair) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{serving.TLSCertificate()},
		ClientCAs:    ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- "handshake: " + err.Error()
			return
		}
		got <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs: ca.Pool(), ServerName: "kubernetes.default.svc", MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{client.TLSCertificate()},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	return <-got
}

func TestHash(t *testing.T) {
	ca, err := NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	h := Hash(ca.Cert)
	tests := []struct {
		name, hash, wantErr string
	}{
		{"match", h, ""},
		{"upper case", "sha256:" + strings.ToUpper(strings.TrimPrefix(h, "sha256:")), ""},
		{"other key", "sha256:" + strings.Repeat("ab", 32), "not the expected"},
		{"no prefix", strings.TrimPrefix(h, "sha256:"), `must start with "sha256:"`},
		{"short", "sha256:abcd", "64 hex digits"},
		{"not hex", "sha256:" + strings.Repeat("zz", 32), "64 hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyHash(ca.Cert, tt.hash)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("VerifyHash: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("VerifyHash = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("openssl agrees", func(t *testing.T) {
		if _, err := exec.LookPath("openssl"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("openssl is required in CI: %v", err)
			}
			t.Skipf("openssl not installed: %v", err)
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "ca.crt")
		if err := os.WriteFile(p, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		// kubeadm's documented recipe for the discovery hash.
		out, err := exec.Command("sh", "-c", "openssl x509 -pubkey -in "+p+" | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl: %v: %s", err, out)
		}
		if want := "sha256:" + strings.TrimSpace(string(out)); want != h {
			t.Fatalf("Hash = %s, openssl says %s", h, want)
		}
	})
}
