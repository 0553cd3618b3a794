package authn

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"google.golang.org/protobuf/proto"
)

// SecretSource finds a Secret in kube-system by name, from a cache.
type SecretSource interface {
	Get(key string) (proto.Message, bool)
}

// BootstrapTokens authenticates bootstrap tokens against their Secrets:
// user system:bootstrap:<id>, groups system:bootstrappers and the token's
// extra groups, only while the Secret is valid and unexpired.
type BootstrapTokens struct {
	secrets SecretSource
	now     func() time.Time
}

var _ TokenAuthenticator = (*BootstrapTokens)(nil)

// NewBootstrapTokens reads Secrets from src (keys kube-system/<name>).
func NewBootstrapTokens(src SecretSource) *BootstrapTokens {
	return &BootstrapTokens{secrets: src, now: time.Now}
}

// AuthenticateToken: a token not shaped like a bootstrap token is not its kind.
func (b *BootstrapTokens) AuthenticateToken(_ context.Context, token string) (*User, bool, error) {
	tok, err := bootstraptoken.Parse(token)
	if err != nil {
		return nil, false, nil
	}
	obj, ok := b.secrets.Get(bootstraptoken.Namespace + "/" + tok.SecretName())
	if !ok {
		return nil, true, fmt.Errorf("bootstrap token %s is unknown", tok.ID)
	}
	info, err := bootstraptoken.FromSecret(obj.(*corev1.Secret))
	if err != nil {
		return nil, true, fmt.Errorf("bootstrap token %s: %w", tok.ID, err)
	}
	if !info.Token.Matches(tok) {
		return nil, true, fmt.Errorf("bootstrap token %s: the secret does not match", tok.ID)
	}
	if obj.(*corev1.Secret).GetMetadata().GetDeletionTimestamp() != nil {
		return nil, true, fmt.Errorf("bootstrap token %s is being deleted", tok.ID)
	}
	if err := info.CanAuthenticate(b.now()); err != nil {
		return nil, true, err
	}
	return &User{Name: tok.User(), Groups: info.Groups()}, true, nil
}

// IsBootstrapUser reports whether name is a bootstrap token's user.
func IsBootstrapUser(name string) bool { return strings.HasPrefix(name, bootstraptoken.UserPrefix) }
