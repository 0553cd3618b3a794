package integration

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// loopbackPort is a port free on 127.0.0.1 a moment ago.
func loopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestKubeletAPIOverTLS: a kubelet (its node's credentials, the fake
// runtime) serves its API over TLS with a self-signed certificate made
// under <root-dir>/pki; the secure apiserver reaches it with its
// apiserver-kubelet-client certificate, so a pod's logs come through;
// the node's own certificate and a client without one are refused by the
// kubelet.
func TestKubeletAPIOverTLS(t *testing.T) {
	c := startSecureCluster(t)
	ctx := harness.Context(t, 2*waitTimeout)
	const node = "tls-1"
	kubeconfig := c.kubeconfig(t, pki.NodeUser(node), pki.GroupNodes)
	cfg := nodeKubelet(t, node, kubeconfig)
	cfg.Port = loopbackPort(t)
	cfg.HollowBehaviors = map[string]fakeruntime.Behavior{hollowImage: {Logs: []fakeruntime.LogLine{{Text: "hello over tls"}}}}
	done, _ := runKubelet(t, cfg)
	waitNodeReady(t, c, node, done)

	pkiDir := pki.Dir(filepath.Join(cfg.RootDir, "pki"))
	if st, err := os.Stat(pkiDir.KeyPath("kubelet")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the self-signed key: %v, mode %v; want 0600", err, st)
	}
	if _, err := c.api.Client.Pods().Create(ctx, &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "talker"},
		Spec:     &corev1.PodSpec{NodeName: node, Containers: []*corev1.Container{{Name: "c", Image: hollowImage}}},
	}); err != nil {
		t.Fatal(err)
	}
	harness.Poll(t, waitTimeout, "pod talker is Running", func() (bool, string) {
		p, err := c.api.Client.Pods().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "talker"})
		if err != nil {
			return false, err.Error()
		}
		return p.GetStatus().GetPhase() == "Running", p.GetStatus().GetPhase()
	})

	t.Run("the apiserver reads the pod's logs from the kubelet", func(t *testing.T) {
		var got string
		harness.Poll(t, waitTimeout, "the pod's log comes through the apiserver", func() (bool, string) {
			s, err := c.api.Client.Pods().Log(ctx, &corev1.PodLogOptions{Namespace: "default", Name: "talker"})
			if err != nil {
				return false, err.Error()
			}
			var b strings.Builder
			for {
				ch, err := s.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return false, err.Error()
				}
				b.Write(ch.GetData())
			}
			got = b.String()
			return strings.Contains(got, "hello over tls"), got
		})
	})

	t.Run("the kubelet refuses other callers", func(t *testing.T) {
		kp, err := c.ca.IssueClient(pki.NodeUser("tls-2"), []string{pki.GroupNodes}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port))
		for _, tt := range []struct {
			name  string
			certs []tls.Certificate
			want  codes.Code
		}{
			{"another node", []tls.Certificate{kp.TLSCertificate()}, codes.PermissionDenied},
			{"no certificate", nil, codes.Unauthenticated},
		} {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
				InsecureSkipVerify: true, //nolint:gosec // the kubelet's certificate is self-signed; the apiserver does not verify it either
				Certificates:       tt.certs, MinVersion: tls.VersionTLS12,
			})))
			if err != nil {
				t.Fatal(err)
			}
			s, err := kubeletv1.NewKubeletServiceClient(conn).Log(ctx, &corev1.PodLogOptions{Namespace: "default", Name: "talker"})
			if err == nil {
				_, err = s.Recv()
			}
			conn.Close()
			if status.Code(err) != tt.want {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
			}
		}
	})
}
