//go:build deploy

package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestExternalEtcdTLS reads the compose external-etcd profile's etcd
// (https://127.0.0.1:2379) over gRPC, as the apiserver does: with the
// apiserver's etcd client certificate the namespace the test created
// through the apiserver is there; plaintext, no client certificate and a
// certificate of the cluster CA (the admin's) are refused.
// $TUGBOAT_ETCD_TLS_DIR holds ca.crt (the etcd CA),
// apiserver-etcd-client.crt/.key and admin.crt/.key;
// $TUGBOAT_ETCD_KEY is the key to find.
func TestExternalEtcdTLS(t *testing.T) {
	dir, key := os.Getenv("TUGBOAT_ETCD_TLS_DIR"), os.Getenv("TUGBOAT_ETCD_KEY")
	if dir == "" || key == "" {
		t.Fatal("TUGBOAT_ETCD_TLS_DIR or TUGBOAT_ETCD_KEY is empty: give the etcd CA's and clients' files and the key to read")
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	pair := func(name string) []tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return []tls.Certificate{c}
	}
	get := func(endpoint string, tc *tls.Config) (int64, error) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: tc, DialTimeout: 3 * time.Second})
		if err != nil {
			return 0, err
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		r, err := cli.Get(ctx, key, clientv3.WithCountOnly())
		if err != nil {
			return 0, err
		}
		return r.Count, nil
	}
	const endpoint = "https://127.0.0.1:2379"
	n, err := get(endpoint, &tls.Config{RootCAs: pool, Certificates: pair("apiserver-etcd-client"), MinVersion: tls.VersionTLS12})
	if err != nil || n != 1 {
		t.Fatalf("%s with the apiserver's etcd client certificate: count %d, %v; want the key %s once", endpoint, n, err, key)
	}
	for _, tt := range []struct {
		name     string
		endpoint string
		tls      *tls.Config
	}{
		{"plaintext", "http://127.0.0.1:2379", nil},
		{"no client certificate", endpoint, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		{"the admin's certificate of the cluster CA", endpoint, &tls.Config{RootCAs: pool, Certificates: pair("admin"), MinVersion: tls.VersionTLS12}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := get(tt.endpoint, tt.tls); err == nil {
				t.Errorf("etcd answered (count %d), want refused", n)
			}
		})
	}
}
