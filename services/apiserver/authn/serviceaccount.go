package authn

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// Service-account names, as Kubernetes spells them.
const (
	ServiceAccountUserPrefix  = "system:serviceaccount:"
	ServiceAccountsGroup      = "system:serviceaccounts"
	DefaultServiceAccountIss  = "https://kubernetes.default.svc." + pki.ClusterDomain
	defaultServiceAccountTTL  = time.Hour
	serviceAccountClaimPrefix = "kubernetes.io"
)

// ServiceAccounts issues and verifies service-account tokens: JWTs signed
// with the key of --service-account-key-file (ES256 for an EC key, RS256
// for RSA), issuer https://kubernetes.default.svc.cluster.local.
type ServiceAccounts struct {
	key    crypto.Signer
	method jwt.SigningMethod
	issuer string
	now    func() time.Time
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

// Issue signs a token for namespace/name valid for ttl (an hour when 0).
func (s *ServiceAccounts) Issue(namespace, name string, ttl time.Duration, audiences ...string) (string, error) {
	if namespace == "" || name == "" {
		return "", errors.New("issue service account token: namespace and name are required")
	}
	if ttl <= 0 {
		ttl = defaultServiceAccountTTL
	}
	now := s.now()
	c := saClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    s.issuer,
		Subject:   ServiceAccountUserPrefix + namespace + ":" + name,
		Audience:  audiences,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}, Kubernetes: &k8sClaim{Namespace: namespace}}
	c.Kubernetes.ServiceAccount.Name = name
	tok, err := jwt.NewWithClaims(s.method, c).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign service account token: %w", err)
	}
	return tok, nil
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
	return &User{Name: c.Subject, Groups: []string{ServiceAccountsGroup, ServiceAccountsGroup + ":" + ns}}, true, nil
}
