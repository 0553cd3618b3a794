package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc/codes"
)

// TestKubeletTLS: the apiserver reaches kubelets over TLS with the client
// certificate of its cert dir (the fake kubelet requires it, see
// startStreams); --kubelet-certificate-authority makes it verify the
// kubelet's serving certificate; --insecure dials plaintext.
func TestKubeletTLS(t *testing.T) {
	t.Parallel()
	readWeb := func(t *testing.T, s *streamSetup) (string, error) {
		t.Helper()
		stream, err := s.cs.Pods().Log(ctx(t), &corev1.PodLogOptions{Namespace: "default", Name: "web"})
		if err != nil {
			return "", err
		}
		return readLog(stream)
	}
	serving, kubeletCA := selfSignedKubelet(t)
	other, err := pki.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := func(name string, ca *pki.CA) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("the kubelet verified against its CA", func(t *testing.T) {
		t.Parallel()
		s := startStreamsWith(t, options{kubeletCA: caFile("kubelet-ca.crt", kubeletCA), kubeletServing: &serving})
		if got, err := readWeb(t, s); err != nil || got != "one\ntwo\n" {
			t.Fatalf("log = %q, %v", got, err)
		}
	})
	t.Run("a kubelet certificate of another CA is refused", func(t *testing.T) {
		t.Parallel()
		s := startStreamsWith(t, options{kubeletCA: caFile("other-ca.crt", other), kubeletServing: &serving})
		_, err := readWeb(t, s)
		wantGRPC(t, err, codes.Unavailable, "certificate signed by unknown authority")
		if n := len(s.kubelet.LogRequests()); n != 0 {
			t.Fatalf("the kubelet got %d log requests", n)
		}
	})
	t.Run("insecure dials plaintext", func(t *testing.T) {
		t.Parallel()
		s := startStreamsWith(t, options{insecure: true})
		if got, err := readWeb(t, s); err != nil || got != "one\ntwo\n" {
			t.Fatalf("log = %q, %v", got, err)
		}
	})
}
