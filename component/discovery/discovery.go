// Package discovery is the joining side of kubeadm's token discovery: it
// fetches the cluster-info ConfigMap from kube-public anonymously over TLS
// without trusting the server yet, checks the detached JWS the bootstrap
// signer put there for the bootstrap token, checks the CA in the signed
// kubeconfig against the pinned "sha256:" hash, and only then returns a
// client configuration that trusts exactly that CA and carries the token.
// When the kubeconfig holds a bundle of CAs, only the one certificate
// whose hash matched is trusted from then on: another CA in the bundle
// (one an attacker added) is dropped, so a server certificate it signed is
// refused for the rest of the join.
// Nothing secret is sent before both checks pass: the first fetch has no
// credentials at all.
package discovery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"sigs.k8s.io/yaml"
)

// ErrHashMismatch is a cluster CA whose public key does not have the
// pinned hash: the server is not the cluster the hash names.
var ErrHashMismatch = errors.New("the cluster CA does not match the --discovery-token-ca-cert-hash")

// ErrTokenRefused is a bootstrap token the apiserver does not accept
// (401): unknown, expired or being deleted. Retrying does not help.
var ErrTokenRefused = errors.New("the cluster refused the bootstrap token")

// ErrNotSigned is a cluster-info without a signature for the token while
// the apiserver accepts the token: the controller-manager's bootstrap
// signer has not signed it yet. Retrying does help.
var ErrNotSigned = errors.New("cluster-info is not signed for the token yet")

// Result is what discovery established.
type Result struct {
	// Server is the apiserver URL of the signed kubeconfig.
	Server string
	// CAData is the cluster CA (PEM): exactly the one certificate of the
	// served bundle whose public key has the pinned hash.
	CAData []byte
	// CA is that certificate.
	CA *x509.Certificate
	// Kubeconfig is the signed cluster-info kubeconfig as served.
	Kubeconfig []byte
}

// Config is a client configuration for endpoint (host:port) that trusts
// exactly the discovered CA and authenticates with the bootstrap token.
func (r *Result) Config(endpoint string, tok bootstraptoken.Token) *config.Config {
	return &config.Config{Server: "https://" + endpoint, CAData: r.CAData, Token: tok.String(), Namespace: config.DefaultNamespace}
}

// Discover runs token discovery against endpoint (host:port) with the
// bootstrap token and the pinned CA hash ("sha256:<hex>"). opts are extra
// dial options (tests pass none).
func Discover(ctx context.Context, endpoint string, tok bootstraptoken.Token, caHash string, opts ...grpc.DialOption) (*Result, error) {
	if _, _, err := net.SplitHostPort(endpoint); err != nil {
		return nil, fmt.Errorf("discovery endpoint %q: want host:port: %w", endpoint, err)
	}
	if _, err := pki.ParseHash(caHash); err != nil {
		return nil, fmt.Errorf("--discovery-token-ca-cert-hash: %w", err)
	}
	// The one unverified fetch: TLS without checking the server and
	// without any credential, so an impostor learns nothing.
	insecureTLS := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // verified below by JWS and CA hash before anything is trusted
	kubeconfig, sig, err := fetch(ctx, endpoint, insecureTLS, tok.ID, opts)
	if err != nil {
		return nil, err
	}
	if sig == "" {
		return nil, unsigned(ctx, endpoint, kubeconfig, tok, caHash, opts)
	}
	if err := clusterinfo.Verify(kubeconfig, sig, tok); err != nil {
		return nil, fmt.Errorf("cluster-info from %s is not signed by token %s (a wrong token, or not the cluster it was made for): %w", endpoint, tok.ID, err)
	}
	res, err := pinned(endpoint, kubeconfig, caHash)
	if err != nil {
		return nil, err
	}
	// Fetch again trusting only that CA: the server must hold its key,
	// and serve the same kubeconfig.
	again, _, err := fetch(ctx, endpoint, res.tlsConfig(), tok.ID, opts)
	if err != nil {
		return nil, fmt.Errorf("cluster-info over TLS verified with the discovered CA: %w", err)
	}
	if !bytes.Equal(again, kubeconfig) {
		return nil, fmt.Errorf("cluster-info from %s changed between the unverified and the verified fetch", endpoint)
	}
	return res, nil
}

// pinned reads the kubeconfig and keeps only its CA with the pinned hash.
func pinned(endpoint string, kubeconfig []byte, caHash string) (*Result, error) {
	server, bundle, err := parse(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cluster-info from %s: %w", endpoint, err)
	}
	ca, err := pin(bundle, caHash)
	if err != nil {
		return nil, fmt.Errorf("refusing to trust %s: %w: %v", endpoint, ErrHashMismatch, err)
	}
	return &Result{Server: server, CAData: pki.EncodeCert(ca), CA: ca, Kubeconfig: kubeconfig}, nil
}

// tlsConfig trusts exactly the pinned CA.
func (r *Result) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(r.CA)
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}

// unsigned tells apart why cluster-info has no signature for the token:
// it checks the served CA against the hash first (ErrHashMismatch, with
// nothing sent), and only then, over TLS pinned to that CA (the server
// proves it holds the CA's key), asks whether the token is accepted:
// ErrTokenRefused on a 401, ErrNotSigned otherwise.
func unsigned(ctx context.Context, endpoint string, kubeconfig []byte, tok bootstraptoken.Token, caHash string, opts []grpc.DialOption) error {
	notSigned := fmt.Errorf("configmap %s/%s on %s has no signature for token %s (key %s)",
		clusterinfo.Namespace, clusterinfo.Name, endpoint, tok.ID, clusterinfo.JWSKey(tok.ID))
	res, err := pinned(endpoint, kubeconfig, caHash)
	if err != nil {
		return errors.Join(notSigned, err)
	}
	if err := res.CheckToken(ctx, endpoint, tok, opts...); err != nil {
		return err
	}
	return fmt.Errorf("%w: %v: the controller-manager's bootstrapsigner has not signed it yet", ErrNotSigned, notSigned)
}

// CheckToken asks the apiserver at endpoint, over TLS that trusts only
// the discovered CA, whether it accepts the bootstrap token:
// ErrTokenRefused when it answers 401 (the token is unknown or expired).
// Any other answer (even a 403) means the token authenticated.
func (r *Result) CheckToken(ctx context.Context, endpoint string, tok bootstraptoken.Token, opts ...grpc.DialOption) error {
	conn, err := grpc.NewClient(endpoint, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(r.tlsConfig()))}, opts...)...)
	if err != nil {
		return fmt.Errorf("dial %s: %w", endpoint, err)
	}
	defer conn.Close()
	md := metadata.Pairs("authorization", "Bearer "+tok.String())
	_, err = clientset.New(conn).ConfigMaps().Get(metadata.NewOutgoingContext(ctx, md), &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
	switch status.Code(err) {
	case codes.Unauthenticated:
		return fmt.Errorf("%w %s: it is unknown or has expired (%s answered 401: %s); create a new one on the control plane with \"tug token create\"",
			ErrTokenRefused, tok.ID, endpoint, status.Convert(err).Message())
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("check bootstrap token %s with %s: %w", tok.ID, endpoint, err)
	}
	return nil
}

// fetch gets the ConfigMap's kubeconfig and the token's signature ("" when
// there is none).
func fetch(ctx context.Context, endpoint string, tc *tls.Config, id string, opts []grpc.DialOption) (kubeconfig []byte, sig string, err error) {
	conn, err := grpc.NewClient(endpoint, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tc))}, opts...)...)
	if err != nil {
		return nil, "", fmt.Errorf("dial %s: %w", endpoint, err)
	}
	defer conn.Close()
	cm, err := clientset.New(conn).ConfigMaps().Get(ctx, &metav1.GetOptions{Namespace: clusterinfo.Namespace, Name: clusterinfo.Name})
	if err != nil {
		return nil, "", fmt.Errorf("get configmap %s/%s from %s: %w", clusterinfo.Namespace, clusterinfo.Name, endpoint, err)
	}
	kc, ok := cm.GetData()[clusterinfo.KeyKubeconfig]
	if !ok || kc == "" {
		return nil, "", fmt.Errorf("configmap %s/%s on %s has no %s key", clusterinfo.Namespace, clusterinfo.Name, endpoint, clusterinfo.KeyKubeconfig)
	}
	// No signature for the token: sig is "" (the caller finds out why).
	return []byte(kc), cm.GetData()[clusterinfo.JWSKey(id)], nil
}

// parse reads the signed kubeconfig: one cluster with a server and CA
// data (one certificate or a bundle).
func parse(kubeconfig []byte) (server string, bundle []*x509.Certificate, err error) {
	var f config.File
	if err := yaml.Unmarshal(kubeconfig, &f); err != nil {
		return "", nil, fmt.Errorf("kubeconfig: %w", err)
	}
	if len(f.Clusters) != 1 {
		return "", nil, fmt.Errorf("kubeconfig has %d clusters, want one", len(f.Clusters))
	}
	c := f.Clusters[0].Cluster
	if c.Server == "" {
		return "", nil, errors.New("kubeconfig's cluster has no server")
	}
	if len(c.CertificateAuthorityData) == 0 {
		return "", nil, errors.New("kubeconfig's cluster has no certificate-authority-data")
	}
	certs, err := pki.ParseCerts(c.CertificateAuthorityData)
	if err != nil {
		return "", nil, fmt.Errorf("kubeconfig's certificate-authority-data: %w", err)
	}
	return c.Server, certs, nil
}

// pin returns the one certificate of bundle whose public key has the
// hash, or why none has.
func pin(bundle []*x509.Certificate, caHash string) (*x509.Certificate, error) {
	var errs []error
	for _, c := range bundle {
		err := pki.VerifyHash(c, caHash)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Kubeconfig is the cluster-info kubeconfig of a cluster: its server and
// CA, no user credentials (what tug init publishes).
func Kubeconfig(server string, caPEM []byte) ([]byte, error) {
	if _, err := pki.ParseCerts(caPEM); err != nil {
		return nil, fmt.Errorf("cluster-info kubeconfig: %w", err)
	}
	f := config.File{
		APIVersion: "v1", Kind: "Config",
		Clusters:       []config.NamedCluster{{Name: "", Cluster: config.Cluster{Server: server, CertificateAuthorityData: caPEM}}},
		Users:          []config.NamedUser{},
		Contexts:       []config.NamedContext{},
		CurrentContext: "",
	}
	return yaml.Marshal(f)
}
