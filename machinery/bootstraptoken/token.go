// Package bootstraptoken is Kubernetes' bootstrap token model, shared by the
// apiserver (which authenticates them) and the CLI (which creates, lists and
// deletes them): tokens `[a-z0-9]{6}.[a-z0-9]{16}`, stored as Secrets
// `bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` in
// kube-system, with Kubernetes' keys.
package bootstraptoken

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"regexp"
	"time"
)

// Kubernetes' names for bootstrap tokens.
const (
	SecretType   = "bootstrap.kubernetes.io/token"
	Namespace    = "kube-system"
	SecretPrefix = "bootstrap-token-"
	// DefaultTTL is how long a new token lives unless told otherwise.
	DefaultTTL = 24 * time.Hour
	// UserPrefix and Group are who a valid token authenticates as.
	UserPrefix = "system:bootstrap:"
	Group      = "system:bootstrappers"
	// DefaultNodeGroup is the extra group of the tokens that join nodes.
	DefaultNodeGroup = "system:bootstrappers:tugboat:default-node-token"

	KeyTokenID         = "token-id"
	KeyTokenSecret     = "token-secret"
	KeyExpiration      = "expiration"
	KeyUsageAuth       = "usage-bootstrap-authentication"
	KeyUsageSigning    = "usage-bootstrap-signing"
	KeyExtraGroups     = "auth-extra-groups"
	KeyDescription     = "description"
	idLength           = 6
	secretLength       = 16
	alphabet           = "abcdefghijklmnopqrstuvwxyz0123456789"
	groupPatternString = `^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`
)

var (
	tokenPattern = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)
	idPattern    = regexp.MustCompile(`^[a-z0-9]{6}$`)
	groupPattern = regexp.MustCompile(groupPatternString)
)

// Token is a bootstrap token: a public ID and a secret.
type Token struct {
	ID, Secret string
}

// String is the token as a user types it: <id>.<secret>.
func (t Token) String() string { return t.ID + "." + t.Secret }

// SecretName is the name of the token's Secret: bootstrap-token-<id>.
func (t Token) SecretName() string { return SecretName(t.ID) }

// SecretName is the name of the Secret of token id.
func SecretName(id string) string { return SecretPrefix + id }

// User is who the token authenticates as: system:bootstrap:<id>.
func (t Token) User() string { return UserPrefix + t.ID }

// Matches compares the secrets in constant time.
func (t Token) Matches(other Token) bool {
	return t.ID == other.ID && subtle.ConstantTimeCompare([]byte(t.Secret), []byte(other.Secret)) == 1
}

// Generate makes a new random token.
func Generate() (Token, error) {
	id, err := randomString(idLength)
	if err != nil {
		return Token{}, err
	}
	secret, err := randomString(secretLength)
	if err != nil {
		return Token{}, err
	}
	return Token{ID: id, Secret: secret}, nil
}

// Parse reads "<id>.<secret>", refusing anything else with a clear error.
func Parse(s string) (Token, error) {
	m := tokenPattern.FindStringSubmatch(s)
	if m == nil {
		return Token{}, fmt.Errorf("bootstrap token %q is malformed: it must match [a-z0-9]{6}.[a-z0-9]{16}", redact(s))
	}
	return Token{ID: m[1], Secret: m[2]}, nil
}

// ValidID reports whether id is a token ID ([a-z0-9]{6}).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// redact keeps a malformed token's secret part out of error messages.
func redact(s string) string {
	if len(s) > 7 {
		return s[:7] + "..."
	}
	return s
}

// randomString draws n characters of [a-z0-9] without bias.
func randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate bootstrap token: %w", err)
		}
		for _, b := range buf {
			// 252 = 7*36: drop the bytes that would bias the draw.
			if b < 252 && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
