package integration

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/services/apiserver/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestEmbeddedEtcdTLS: the embedded etcd of a secure server serves only
// TLS clients with a certificate of its own CA (kubeadm's layout under the
// cert dir); plaintext, no certificate or a certificate of the cluster CA
// (an admin's) are refused.
func TestEmbeddedEtcdTLS(t *testing.T) {
	s := start(t, options{})
	if !strings.HasPrefix(s.etcdURL, "https://") {
		t.Fatalf("embedded etcd URL %s, want https", s.etcdURL)
	}
	certDir := pki.Dir(filepath.Join(s.dataDir, "pki"))
	files := certDir.EtcdPaths()
	for _, f := range []string{"etcd/ca.crt", "etcd/ca.key", "etcd/server.crt", "etcd/server.key", "apiserver-etcd-client.crt", "apiserver-etcd-client.key"} {
		if _, err := os.Stat(filepath.Join(string(certDir), f)); err != nil {
			t.Errorf("cert dir lacks %s: %v", f, err)
		}
	}
	if _, err := certDir.EtcdDir().LoadOrCreateCA(); err != nil {
		t.Fatalf("etcd CA: %v", err)
	}
	if got := s.etcdState(t).keys; got == 0 {
		t.Fatalf("etcd read with the apiserver-etcd-client certificate: %d keys under /registry/, want some", got)
	}

	good, err := etcd.ClientTLS(files)
	if err != nil {
		t.Fatal(err)
	}
	clusterCA, err := certDir.LoadOrCreateCA()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := clusterCA.IssueClient("kubernetes-admin", []string{pki.GroupMasters}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		endpoint string
		tls      *tls.Config
	}{
		{"plaintext", strings.Replace(s.etcdURL, "https://", "http://", 1), nil},
		{"no client certificate", s.etcdURL, &tls.Config{RootCAs: good.RootCAs, MinVersion: tls.VersionTLS12}},
		{"a cluster CA client certificate", s.etcdURL, &tls.Config{RootCAs: good.RootCAs, Certificates: []tls.Certificate{admin.TLSCertificate()}, MinVersion: tls.VersionTLS12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := clientv3.New(clientv3.Config{Endpoints: []string{tc.endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop(), TLS: tc.tls})
			if err != nil {
				return // refused at dial: what we want
			}
			defer c.Close()
			cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if _, err := c.Get(cctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err == nil {
				t.Fatalf("etcd at %s answered a client with %s", tc.endpoint, tc.name)
			}
		})
	}
}
