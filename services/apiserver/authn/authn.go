package authn

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// ErrNoCredentials means the request carried neither a client certificate
// nor a bearer token.
var ErrNoCredentials = errors.New("no client certificate or bearer token was presented")

// Credentials are what a request presents.
type Credentials struct {
	// PeerCertificates are the client's certificates as sent (leaf first),
	// not yet verified.
	PeerCertificates []*x509.Certificate
	// Token is the bearer token, without "Bearer ".
	Token string
	// Public says the request is one anonymous may make (PublicHTTP,
	// PublicGRPC).
	Public bool
}

// TokenAuthenticator authenticates a bearer token. ok false means the token
// is not one of its kind (the next one is asked); an error means it is and
// was refused.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (u *User, ok bool, err error)
}

// Authenticator is the chain: the client certificate first, then each
// token authenticator in turn.
type Authenticator struct {
	// Certs verifies client certificates; nil refuses them.
	Certs *CertAuthenticator
	// Tokens are asked in order.
	Tokens []TokenAuthenticator
	// Log, when set, gets a line for every refused request.
	Log *zap.Logger
	// Failures, when set, counts refused requests.
	Failures prometheus.Counter
	// OnHTTPRefused, when set, is told of every HTTP request refused with
	// a 401 (the audit log records the mutating ones).
	OnHTTPRefused func(r *http.Request, err error)
	// Anonymous makes a public request (Credentials.Public) without any
	// credential the user system:anonymous in system:unauthenticated
	// (authorisation still decides) instead of a 401. Any other request
	// without credentials, and refused credentials, stay a 401.
	Anonymous bool
}

// AnonymousUser is the user of a request without credentials when
// Authenticator.Anonymous is set.
const AnonymousUser = "system:anonymous"

// refused logs and counts a refused request; where is the gRPC method or
// the HTTP path, peer the client's address.
func (a *Authenticator) refused(err error, where, peer string) {
	if a.Failures != nil {
		a.Failures.Inc()
	}
	if a.Log != nil {
		a.Log.Info("request unauthenticated", zap.String("request", where), zap.String("peer", peer), zap.String("reason", err.Error()))
	}
}

// Message is what a 401 says to the client: Kubernetes' bare
// "Unauthorized" when no credential was presented, with the reason when
// one was presented and refused (an unknown or expired token, a
// certificate of another CA), so its owner learns what to fix.
func Message(err error) string {
	if errors.Is(err, ErrNoCredentials) {
		return "Unauthorized"
	}
	return "Unauthorized: " + err.Error()
}

// Enabled reports whether any credential can be authenticated.
func (a *Authenticator) Enabled() bool { return a != nil && (a.Certs != nil || len(a.Tokens) > 0) }

// Authenticate returns the request's user, or an error that says why the
// credentials were refused (a missing or unknown credential, an expired
// token, a certificate of another CA).
func (a *Authenticator) Authenticate(ctx context.Context, c Credentials) (*User, error) {
	if len(c.PeerCertificates) > 0 {
		if a.Certs == nil {
			return nil, errors.New("client certificates are not accepted: the apiserver has no --client-ca-file")
		}
		u, err := a.Certs.Authenticate(c.PeerCertificates)
		if err != nil {
			return nil, err
		}
		return u, nil
	}
	if c.Token == "" {
		if a.Anonymous && c.Public {
			return &User{Name: AnonymousUser, Groups: []string{GroupUnauthenticated}}, nil
		}
		return nil, ErrNoCredentials
	}
	for _, t := range a.Tokens {
		u, ok, err := t.AuthenticateToken(ctx, c.Token)
		if err != nil {
			return nil, err
		}
		if ok {
			return withAuthenticated(u), nil
		}
	}
	return nil, errors.New("invalid bearer token")
}

// BearerToken returns the token of an Authorization header value, "" if
// it is not a bearer token.
func BearerToken(header string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
