package server

import (
	"context"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// defaultTokenSeconds is a TokenRequest's validity when it names none.
const defaultTokenSeconds = 3600

// serviceAccountService adds serviceaccounts/token: a TokenRequest is
// answered with a JWT signed with the apiserver's service-account key.
type serviceAccountService struct {
	*handler[*corev1.ServiceAccount, *corev1.ServiceAccountList, corev1.ServiceAccountWatchEvent]
	// tokens signs; nil when the apiserver has no service-account key.
	tokens *authn.ServiceAccounts
}

// CreateToken issues a token for the service account the request's
// metadata names; it must exist, and its UID goes into the token.
func (s *serviceAccountService) CreateToken(ctx context.Context, req *corev1.TokenRequest) (*corev1.TokenRequest, error) {
	ns, name := req.GetMetadata().GetNamespace(), req.GetMetadata().GetName()
	if ns == "" {
		ns = "default"
	}
	if name == "" {
		return nil, apierr.BadRequest("a TokenRequest needs the service account's name")
	}
	if errs := validation.ValidateTokenRequest(req); len(errs) > 0 {
		return nil, apierr.Invalid("TokenRequest", name, errs)
	}
	if s.tokens == nil {
		return nil, apierr.Unavailable("serviceaccounts/token: the apiserver has no service-account signing key (--service-account-key-file or --cert-dir)")
	}
	sa, err := s.Get(ctx, &metav1.GetOptions{Namespace: ns, Name: name})
	if err != nil {
		return nil, err
	}
	out := &corev1.TokenRequest{
		ApiVersion: "authentication.k8s.io/v1", Kind: "TokenRequest",
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     proto.Clone(req.GetSpec()).(*corev1.TokenRequestSpec),
	}
	if out.Spec == nil {
		out.Spec = &corev1.TokenRequestSpec{}
	}
	if len(out.Spec.Audiences) == 0 {
		out.Spec.Audiences = s.tokens.Audiences()
		if len(out.Spec.Audiences) == 0 {
			out.Spec.Audiences = []string{authn.DefaultAPIAudience}
		}
	}
	if out.Spec.ExpirationSeconds == nil {
		out.Spec.ExpirationSeconds = proto.Int32(defaultTokenSeconds)
	}
	tok, exp, err := s.tokens.IssueToken(authn.TokenSpec{
		Namespace: ns, Name: name, UID: sa.GetMetadata().GetUid(),
		TTL:       time.Duration(out.Spec.GetExpirationSeconds()) * time.Second,
		Audiences: out.Spec.Audiences,
	})
	if err != nil {
		return nil, apierr.Internal(err)
	}
	out.Status = &corev1.TokenRequestStatus{Token: tok, ExpirationTimestamp: timestamppb.New(exp)}
	return out, nil
}
