package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

// Service-account names, as Kubernetes spells them.
const (
	ServiceAccountUserPrefix = "system:serviceaccount:"
	ServiceAccountsGroup     = "system:serviceaccounts"
	DefaultServiceAccountIss = "https://kubernetes.default.svc." + pki.ClusterDomain
	// DefaultAPIAudience is the apiserver's audience (--api-audiences),
	// Kubernetes' default: its issuer.
	DefaultAPIAudience        = DefaultServiceAccountIss
	defaultServiceAccountTTL  = time.Hour
	serviceAccountClaimPrefix = "kubernetes.io"
)

// AccountSource finds a ServiceAccount by namespace/name, from a cache.
type AccountSource interface {
	Get(key string) (proto.Message, bool)
}

// ServiceAccounts issues and verifies service-account tokens: JWTs signed
// with the key of --service-account-key-file (ES256 for an EC key, RS256
// for RSA), issuer https://kubernetes.default.svc.cluster.local. Once
// Bind gives it the API audiences and the accounts, a token is accepted
// only when its audience includes one of the API audiences and its
// ServiceAccount exists with the UID in the token.
type ServiceAccounts struct {
	key       crypto.Signer
	method    jwt.SigningMethod
	issuer    string
	now       func() time.Time
	audiences []string
	accounts  AccountSource
}

var _ TokenAuthenticator = (*ServiceAccounts)(nil)

// saClaims are the registered claims plus Kubernetes' own.
type saClaims struct {
	jwt.RegisteredClaims
	Kubernetes *k8sClaim `json:"kubernetes.io,omitempty"`
}

type k8sClaim struct {
	Namespace      string `json:"namespace"`
	ServiceAccount struct {
		Name string `json:"name"`
		UID  string `json:"uid,omitempty"`
	} `json:"serviceaccount"`
}

// LoadServiceAccountKey reads the signing key (PEM, 0600 or stricter).
func LoadServiceAccountKey(path string) (*ServiceAccounts, error) {
	if err := pki.CheckKeyFile(path); err != nil {
		return nil, fmt.Errorf("--service-account-key-file: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --service-account-key-file: %w", err)
	}
	key, err := pki.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("--service-account-key-file %s: %w", path, err)
	}
	return NewServiceAccounts(key, "")
}

// NewServiceAccounts signs with key; issuer "" is the default.
func NewServiceAccounts(key crypto.Signer, issuer string) (*ServiceAccounts, error) {
	if issuer == "" {
		issuer = DefaultServiceAccountIss
	}
	s := &ServiceAccounts{key: key, issuer: issuer, now: time.Now}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve.Params().BitSize != 256 {
			return nil, fmt.Errorf("service account key: only P-256 EC keys are supported, not %s", k.Curve.Params().Name)
		}
		s.method = jwt.SigningMethodES256
	case *rsa.PrivateKey:
		s.method = jwt.SigningMethodRS256
	default:
		return nil, fmt.Errorf("service account key: unsupported key type %T (want EC P-256 or RSA)", key)
	}
	return s, nil
}

// Bind makes tokens valid only for audiences (the apiserver's own,
// --api-audiences; none means DefaultAPIAudience) and only while their
// account, read from accounts by namespace/name, exists with the token's
// UID.
func (s *ServiceAccounts) Bind(audiences []string, accounts AccountSource) {
	if len(audiences) == 0 {
		audiences = []string{DefaultAPIAudience}
	}
	s.audiences, s.accounts = append([]string(nil), audiences...), accounts
}

// Audiences are the API audiences given to Bind.
func (s *ServiceAccounts) Audiences() []string { return append([]string(nil), s.audiences...) }

// TokenSpec is what a service-account token is issued for.
type TokenSpec struct {
	Namespace, Name, UID string
	// TTL is the validity, an hour when 0.
	TTL       time.Duration
	Audiences []string
}

// Issue signs a token for namespace/name valid for ttl (an hour when 0).
func (s *ServiceAccounts) Issue(namespace, name string, ttl time.Duration, audiences ...string) (string, error) {
	tok, _, err := s.IssueToken(TokenSpec{Namespace: namespace, Name: name, TTL: ttl, Audiences: audiences})
	return tok, err
}

// IssueToken signs a token for spec and returns it with its expiry, which
// is whole seconds (JWT times are).
func (s *ServiceAccounts) IssueToken(spec TokenSpec) (string, time.Time, error) {
	namespace, name, ttl, audiences := spec.Namespace, spec.Name, spec.TTL, spec.Audiences
	if namespace == "" || name == "" {
		return "", time.Time{}, errors.New("issue service account token: namespace and name are required")
	}
	if ttl <= 0 {
		ttl = defaultServiceAccountTTL
	}
	now := s.now().Truncate(time.Second)
	c := saClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    s.issuer,
		Subject:   ServiceAccountUserPrefix + namespace + ":" + name,
		Audience:  audiences,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}, Kubernetes: &k8sClaim{Namespace: namespace}}
	c.Kubernetes.ServiceAccount.Name, c.Kubernetes.ServiceAccount.UID = name, spec.UID
	tok, err := jwt.NewWithClaims(s.method, c).SignedString(s.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign service account token: %w", err)
	}
	return tok, c.ExpiresAt.Time, nil
}

// AuthenticateToken: a token that is not a JWT of this issuer is not its kind.
func (s *ServiceAccounts) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	if strings.Count(token, ".") != 2 {
		return nil, false, nil
	}
	var c saClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.key.Public(), nil },
		jwt.WithValidMethods([]string{s.method.Alg()}), jwt.WithIssuer(s.issuer), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now))
	if err != nil {
		if c.Issuer != "" && c.Issuer != s.issuer {
			return nil, false, nil
		}
		return nil, true, fmt.Errorf("service account token: %w", err)
	}
	ns, name, ok := strings.Cut(strings.TrimPrefix(c.Subject, ServiceAccountUserPrefix), ":")
	if !strings.HasPrefix(c.Subject, ServiceAccountUserPrefix) || !ok || ns == "" || name == "" {
		return nil, true, fmt.Errorf("service account token: subject %q is not system:serviceaccount:<namespace>:<name>", c.Subject)
	}
	if err := s.checkBound(&c, ns, name); err != nil {
		return nil, true, err
	}
	return &User{Name: c.Subject, UID: c.Kubernetes.uid(), Groups: []string{ServiceAccountsGroup, ServiceAccountsGroup + ":" + ns}}, true, nil
}

// checkBound checks the audience and the account once Bind was called.
func (s *ServiceAccounts) checkBound(c *saClaims, ns, name string) error {
	if len(s.audiences) > 0 && !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(s.audiences, a) }) {
		return fmt.Errorf("service account token: audience %q does not include the apiserver's %q", []string(c.Audience), s.audiences)
	}
	if s.accounts == nil {
		return nil
	}
	obj, ok := s.accounts.Get(ns + "/" + name)
	if !ok {
		return fmt.Errorf("service account token: service account %s/%s does not exist", ns, name)
	}
	sa, _ := obj.(*corev1.ServiceAccount)
	if uid := c.Kubernetes.uid(); uid == "" || uid != sa.GetMetadata().GetUid() {
		return fmt.Errorf("service account token: service account %s/%s has UID %s, not the token's %q", ns, name, sa.GetMetadata().GetUid(), uid)
	}
	if sa.GetMetadata().GetDeletionTimestamp() != nil {
		return fmt.Errorf("service account token: service account %s/%s is being deleted", ns, name)
	}
	return nil
}

func (k *k8sClaim) uid() string {
	if k == nil {
		return ""
	}
	return k.ServiceAccount.UID
}
