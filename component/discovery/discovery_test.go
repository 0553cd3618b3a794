package discovery

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeAPI serves the one ConfigMap over TLS and records every
// authorization header it is shown; a bearer token other than accepted's
// gets a 401, as the apiserver answers an unknown or expired token.
type fakeAPI struct {
	corev1.UnimplementedConfigMapServiceServer
	mu          sync.Mutex
	cm          *corev1.ConfigMap
	accepted    map[string]bool
	credentials []string
}

func (f *fakeAPI) Get(ctx context.Context, in *metav1.GetOptions) (*corev1.ConfigMap, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for _, h := range md.Get("authorization") {
			f.credentials = append(f.credentials, h)
			if !f.accepted[strings.TrimPrefix(h, "Bearer ")] {
				return nil, status.Error(codes.Unauthenticated, "Unauthorized: bootstrap token is unknown")
			}
		}
	}
	if in.GetNamespace() != clusterinfo.Namespace || in.GetName() != clusterinfo.Name || f.cm == nil {
		return nil, status.Error(codes.NotFound, "not found")
	}
	return f.cm, nil
}

func (f *fakeAPI) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.credentials...)
}

type cluster struct {
	ca       *pki.CA
	api      *fakeAPI
	endpoint string
}

// serve runs a fake apiserver with a serving certificate of a new CA for
// 127.0.0.1, whose cluster-info kubeconfig holds the CA data
// kubeconfigCA returns for that CA (the CA itself when nil) signed with
// signer.
func serve(t *testing.T, signer bootstraptoken.Token, kubeconfigCA func(own *pki.CA) []byte) *cluster {
	t.Helper()
	ca, err := pki.NewCA("cluster-ca")
	if err != nil {
		t.Fatal(err)
	}
	caData := ca.CertPEM()
	if kubeconfigCA != nil {
		caData = kubeconfigCA(ca)
	}
	return serveWith(t, signer, ca, caData)
}

// serveWith runs a fake apiserver whose serving certificate ca signed and
// whose cluster-info kubeconfig holds caData, signed with signer.
func serveWith(t *testing.T, signer bootstraptoken.Token, ca *pki.CA, caData []byte) *cluster {
	t.Helper()
	kp, err := ca.IssueServing("apiserver", pki.ServingNames{IPs: []net.IP{net.ParseIP("127.0.0.1")}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := Kubeconfig("https://"+l.Addr().String(), caData)
	if err != nil {
		t.Fatal(err)
	}
	api := &fakeAPI{cm: &corev1.ConfigMap{Data: map[string]string{
		clusterinfo.KeyKubeconfig:     string(kc),
		clusterinfo.JWSKey(signer.ID): clusterinfo.Sign(kc, signer),
	}}, accepted: map[string]bool{signer.String(): true}}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{kp.TLSCertificate()}, MinVersion: tls.VersionTLS12})))
	corev1.RegisterConfigMapServiceServer(gs, api)
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)
	return &cluster{ca: ca, api: api, endpoint: l.Addr().String()}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDiscover(t *testing.T) {
	tok := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	c := serve(t, tok, nil)
	res, err := Discover(testContext(t), c.endpoint, tok, pki.Hash(c.ca.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if !res.CA.Equal(c.ca.Cert) || res.Server != "https://"+c.endpoint {
		t.Fatalf("discovered CA %s, server %s", res.CA.Subject, res.Server)
	}
	if got := c.api.seen(); len(got) != 0 {
		t.Fatalf("discovery sent credentials %q", got)
	}
	// The client trusts exactly that CA and now presents the token.
	conn, err := config.Dial(testContext(t), res.Config(c.endpoint, tok))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := clientset.New(conn).ConfigMaps().Get(testContext(t), &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name}); err != nil {
		t.Fatalf("get with the discovered config: %v", err)
	}
	if got := c.api.seen(); len(got) != 1 || got[0] != "Bearer "+tok.String() {
		t.Fatalf("the bootstrap client sent %q", got)
	}
}

func TestDiscoverRefuses(t *testing.T) {
	tok := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	unknown := bootstraptoken.Token{ID: "zzzzzz", Secret: "0123456789abcdef"}
	other, err := pki.NewCA("impostor")
	if err != nil {
		t.Fatal(err)
	}
	good := serve(t, tok, nil)
	// A cluster that accepts a token it has not signed cluster-info for yet.
	late := serve(t, tok, nil)
	fresh := bootstraptoken.Token{ID: "ffffff", Secret: "0123456789abcdef"}
	late.api.accepted[fresh.String()] = true
	tests := []struct {
		name string
		c    *cluster
		tok  bootstraptoken.Token
		hash string
		want string
		is   error
		// sent is the credentials shown to the server: only ever over
		// TLS verified with the pinned CA.
		sent int
	}{
		{name: "wrong hash", c: good, tok: tok, hash: pki.Hash(other.Cert), want: "refusing to trust", is: ErrHashMismatch},
		{name: "malformed hash", c: good, tok: tok, hash: "sha256:xyz", want: `--discovery-token-ca-cert-hash: CA hash "sha256:xyz"`},
		{name: "wrong token secret", c: good, tok: bootstraptoken.Token{ID: "abcdef", Secret: "ffffffffffffffff"}, hash: pki.Hash(good.ca.Cert), want: "is not signed by token abcdef"},
		{name: "unknown token id", c: good, tok: unknown, hash: pki.Hash(good.ca.Cert), want: "the cluster refused the bootstrap token zzzzzz: it is unknown or has expired", is: ErrTokenRefused, sent: 1},
		{name: "unknown token id and wrong hash", c: good, tok: unknown, hash: pki.Hash(other.Cert), want: "refusing to trust", is: ErrHashMismatch},
		{name: "token not signed yet", c: late, tok: fresh, hash: pki.Hash(late.ca.Cert), want: "has no signature for token ffffff", is: ErrNotSigned, sent: 1},
		// The server serves a kubeconfig naming another CA, signed with
		// the token (someone who knows the token but not the CA key): the
		// hash pins the real CA, so it is refused.
		{name: "kubeconfig with another CA", c: serve(t, tok, func(*pki.CA) []byte { return other.CertPEM() }), tok: tok, hash: pki.Hash(good.ca.Cert), want: "refusing to trust", is: ErrHashMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.c.api.seen())
			_, err := Discover(testContext(t), tt.c.endpoint, tt.tok, tt.hash)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Discover = %v, want %q", err, tt.want)
			}
			for _, sentinel := range []error{ErrHashMismatch, ErrTokenRefused, ErrNotSigned} {
				if errors.Is(err, sentinel) != (sentinel == tt.is) {
					t.Errorf("errors.Is(err, %q) = %v", sentinel, !(sentinel == tt.is))
				}
			}
			if got := tt.c.api.seen()[before:]; len(got) != tt.sent {
				t.Errorf("credentials sent: %q, want %d", got, tt.sent)
			}
		})
	}
	t.Run("tampered kubeconfig", func(t *testing.T) {
		c := serve(t, tok, nil)
		c.api.mu.Lock()
		c.api.cm.Data[clusterinfo.KeyKubeconfig] = strings.Replace(c.api.cm.Data[clusterinfo.KeyKubeconfig], "https://127.0.0.1", "https://127.0.0.2", 1)
		c.api.mu.Unlock()
		_, err := Discover(testContext(t), c.endpoint, tok, pki.Hash(c.ca.Cert))
		if err == nil || !strings.Contains(err.Error(), "does not match the content and the token") {
			t.Fatalf("Discover = %v", err)
		}
	})
}

// TestDiscoverPinsOneCA serves a cluster-info whose CA data is a bundle of
// the cluster's CA and an attacker's (in either order): discovery trusts
// only the certificate whose hash was pinned, so a server presenting a
// certificate of the attacker's CA is refused for the rest of the join,
// and is shown no token.
func TestDiscoverPinsOneCA(t *testing.T) {
	tok := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	attacker, err := pki.NewCA("attacker")
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's own apiserver, with a serving certificate its CA signed.
	evil := serveWith(t, tok, attacker, attacker.CertPEM())
	tests := []struct {
		name   string
		bundle func(own *pki.CA) []byte
	}{
		{name: "cluster CA first", bundle: func(own *pki.CA) []byte { return append(own.CertPEM(), attacker.CertPEM()...) }},
		{name: "attacker's CA first", bundle: func(own *pki.CA) []byte { return append(attacker.CertPEM(), own.CertPEM()...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serve(t, tok, tt.bundle)
			res, err := Discover(testContext(t), c.endpoint, tok, pki.Hash(c.ca.Cert))
			if err != nil {
				t.Fatal(err)
			}
			certs, err := pki.ParseCerts(res.CAData)
			if err != nil {
				t.Fatal(err)
			}
			if len(certs) != 1 || !certs[0].Equal(c.ca.Cert) || !res.CA.Equal(c.ca.Cert) {
				t.Fatalf("discovery trusts %d certificates (first %q), want only the pinned %q", len(certs), certs[0].Subject.CommonName, c.ca.Cert.Subject.CommonName)
			}
			// The whole bundle would trust the attacker's server: the
			// control that shows the check below can fail.
			bundled := res.Config(evil.endpoint, tok)
			bundled.CAData = tt.bundle(c.ca)
			if err := getClusterInfo(t, bundled); err != nil {
				t.Fatalf("control: the full bundle should reach the attacker's server: %v", err)
			}
			before := len(evil.api.seen())
			err = getClusterInfo(t, res.Config(evil.endpoint, tok))
			if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
				t.Fatalf("the discovered config reached a server of the attacker's CA: %v", err)
			}
			if got := evil.api.seen(); len(got) != before {
				t.Fatalf("the token was sent to the attacker's server: %q", got[before:])
			}
		})
	}
}

// getClusterInfo dials with cfg and reads cluster-info once.
func getClusterInfo(t *testing.T, cfg *config.Config) error {
	t.Helper()
	conn, err := config.Dial(testContext(t), cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Second)
	defer cancel()
	_, err = clientset.New(conn).ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
	return err
}
