package kubelet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet/kubelettest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// writePair writes kp as <name>.crt and <name>.key (mode keyMode) under dir.
func writePair(t *testing.T, dir, name string, kp *pki.KeyPair, keyMode os.FileMode) (string, string) {
	t.Helper()
	key, err := kp.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	cert, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(cert, kp.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, key, keyMode); err != nil {
		t.Fatal(err)
	}
	return cert, keyPath
}

// TestPoolTLS dials a fake kubelet that serves TLS and requires a client
// certificate of the cluster CA for the apiserver's kubelet-client user.
func TestPoolTLS(t *testing.T) {
	clusterCA, err := pki.NewCA("cluster")
	if err != nil {
		t.Fatal(err)
	}
	// The kubelet's serving certificate is self-signed in Kubernetes: here
	// it is signed by a CA of its own, which the apiserver does not know.
	kubeletCA, err := pki.NewCA("kubelet-self")
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	serving, err := kubeletCA.IssueServing("node-1", pki.ServingNames{DNSNames: []string{"node-1"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	k := kubelettest.StartTLS(t, serving.TLSCertificate(), clusterCA.Pool())
	k.SetChunks("over TLS")

	dir := t.TempDir()
	issue := func(ca *pki.CA, name, user string, groups ...string) (string, string) {
		kp, err := ca.IssueClient(user, groups, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return writePair(t, dir, name, kp, 0o600)
	}
	apiCert, apiKey := issue(clusterCA, "apiserver-kubelet-client", "kube-apiserver-kubelet-client")
	aliceCert, aliceKey := issue(clusterCA, "alice", "alice")
	foreignCert, foreignKey := issue(otherCA, "foreign", "kube-apiserver-kubelet-client")
	writeCA := func(name string, ca *pki.CA) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kubeletCAFile, otherCAFile := writeCA("kubelet-ca.crt", kubeletCA), writeCA("other-ca.crt", otherCA)

	tests := []struct {
		name              string
		plaintext         bool
		cert, key, caFile string
		wantCode          codes.Code
		wantMsg           string
	}{
		{name: "the apiserver's client certificate, kubelet not verified", cert: apiCert, key: apiKey},
		{name: "the apiserver's client certificate, kubelet verified", cert: apiCert, key: apiKey, caFile: kubeletCAFile},
		{name: "kubelet's certificate of an unknown CA", cert: apiCert, key: apiKey, caFile: otherCAFile, wantCode: codes.Unavailable, wantMsg: "certificate signed by unknown authority"},
		{name: "no client certificate", wantCode: codes.Unavailable},
		{name: "a client certificate of another CA", cert: foreignCert, key: foreignKey, wantCode: codes.Unavailable},
		{name: "a user the kubelet does not let in", cert: aliceCert, key: aliceKey, wantCode: codes.PermissionDenied, wantMsg: `user "alice"`},
		{name: "plaintext", plaintext: true, wantCode: codes.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := kubelet.Options{}
			if !tt.plaintext {
				cfg, err := kubelet.ClientTLS(tt.cert, tt.key, tt.caFile)
				if err != nil {
					t.Fatal(err)
				}
				o.TLS = cfg
			}
			p := kubelet.NewPool(o)
			defer p.Close()
			c, err := p.Client(k.Addr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got string
			stream, err := c.Log(ctx, &corev1.PodLogOptions{Name: "web"})
			for err == nil {
				var chunk *corev1.PodLogChunk
				if chunk, err = stream.Recv(); err == nil {
					got += string(chunk.GetData())
				}
			}
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if tt.wantCode == codes.OK {
				if err != nil || got != "over TLS" {
					t.Fatalf("Log = %q, %v; want %q", got, err, "over TLS")
				}
				return
			}
			if st := status.Convert(err); err == nil || st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
				t.Fatalf("Log = %q, %v; want %v %q", got, err, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestClientTLSRefusesBadFiles(t *testing.T) {
	ca, err := pki.NewCA("")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.IssueClient("kube-apiserver-kubelet-client", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, looseKey := writePair(t, dir, "loose", kp, 0o644)
	_, goodKey := writePair(t, dir, "good", kp, 0o600)
	tests := []struct {
		name, cert, key, ca, want string
	}{
		{"a key readable by others", cert, looseKey, "", "--kubelet-client-key: private key " + looseKey + " has mode 0644"},
		{"a missing certificate", filepath.Join(dir, "none.crt"), goodKey, "", "load --kubelet-client-certificate and --kubelet-client-key"},
		{"a missing CA", "", "", filepath.Join(dir, "none.crt"), "read --kubelet-certificate-authority"},
		{"a CA file without certificates", "", "", looseKey, "--kubelet-certificate-authority " + looseKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := kubelet.ClientTLS(tt.cert, tt.key, tt.ca); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ClientTLS = %v, want %q", err, tt.want)
			}
		})
	}
}
