package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/tugboat-sh/tugboat/component/pki"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// APIServerUser is the user of the apiserver's kubelet client certificate.
const APIServerUser = "kube-apiserver-kubelet-client"

// Auth checks the client certificates of the kubelet's callers against a
// client CA and lets in only the apiserver's user or system:masters.
type Auth struct {
	roots *x509.CertPool
}

// NewAuth trusts the certificates of clientCAPEM (one or more).
func NewAuth(clientCAPEM []byte) (*Auth, error) {
	certs, err := pki.ParseCerts(clientCAPEM)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &Auth{roots: pool}, nil
}

// TLSConfig serves cert and asks every client for its certificate. The
// handshake takes any certificate (or none): the interceptors verify it,
// so that a refusal is a gRPC status with its reason rather than a broken
// connection.
func (a *Auth) TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
	}
}

// Authorize returns nil when the call's peer presented a client
// certificate of the client CA for the apiserver's user or a member of
// system:masters; Unauthenticated or PermissionDenied with the reason
// otherwise.
func (a *Auth) Authorize(ctx context.Context) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "Unauthorized: no peer")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return status.Error(codes.Unauthenticated, "Unauthorized: the kubelet API requires TLS with a client certificate")
	}
	certs := ti.State.PeerCertificates
	if len(certs) == 0 {
		return status.Error(codes.Unauthenticated, "Unauthorized: no client certificate: the kubelet API requires one from the cluster's client CA")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			return status.Errorf(codes.Unauthenticated, "Unauthorized: client certificate for %q is not signed by the kubelet's client CA: %v", certs[0].Subject.CommonName, err)
		}
		return status.Errorf(codes.Unauthenticated, "Unauthorized: client certificate for %q: %v", certs[0].Subject.CommonName, err)
	}
	user, groups := certs[0].Subject.CommonName, certs[0].Subject.Organization
	if user == APIServerUser || slices.Contains(groups, pki.GroupMasters) {
		return nil
	}
	return status.Errorf(codes.PermissionDenied, "Forbidden: user %q (groups %q) may not use the kubelet API: only %s or group %s may", user, groups, APIServerUser, pki.GroupMasters)
}

// UnaryServerInterceptor authorises each call.
func (a *Auth) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := a.Authorize(ctx); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor authorises each stream before it starts.
func (a *Auth) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := a.Authorize(ss.Context()); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}
