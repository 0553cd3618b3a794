package bootstraptoken

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// Usages a token can be given.
const (
	UsageAuthentication = "authentication"
	UsageSigning        = "signing"
)

// Info is a token with what its Secret says about it.
type Info struct {
	Token
	// Expires is when it stops working; zero never expires.
	Expires time.Time
	// Usages: authentication, signing.
	Usages []string
	// ExtraGroups are added to system:bootstrappers when it authenticates.
	ExtraGroups []string
	Description string
}

// New is a token for joining nodes: authentication and signing, the
// default node group, expiring after ttl (DefaultTTL when zero; negative
// never expires).
func New(t Token, ttl time.Duration, now time.Time, description string) Info {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	i := Info{Token: t, Usages: []string{UsageAuthentication, UsageSigning}, ExtraGroups: []string{DefaultNodeGroup}, Description: description}
	if ttl > 0 {
		i.Expires = now.Add(ttl).UTC().Truncate(time.Second)
	}
	return i
}

// Expired reports whether the token has expired at now.
func (i Info) Expired(now time.Time) bool { return !i.Expires.IsZero() && !now.Before(i.Expires) }

// Groups are the token's groups when it authenticates.
func (i Info) Groups() []string { return append([]string{Group}, i.ExtraGroups...) }

// AsSecret is the token's Secret in kube-system.
func (i Info) AsSecret() *corev1.Secret {
	s := &corev1.Secret{
		ApiVersion: "v1", Kind: "Secret",
		Metadata: &metav1.ObjectMeta{Name: i.SecretName(), Namespace: Namespace},
		Type:     SecretType,
		Data: map[string][]byte{
			KeyTokenID:     []byte(i.ID),
			KeyTokenSecret: []byte(i.Secret),
		},
	}
	if !i.Expires.IsZero() {
		s.Data[KeyExpiration] = []byte(i.Expires.UTC().Format(time.RFC3339))
	}
	for _, u := range i.Usages {
		s.Data["usage-bootstrap-"+u] = []byte("true")
	}
	if len(i.ExtraGroups) > 0 {
		s.Data[KeyExtraGroups] = []byte(strings.Join(i.ExtraGroups, ","))
	}
	if i.Description != "" {
		s.Data[KeyDescription] = []byte(i.Description)
	}
	return s
}

// FromSecret reads a token's Secret, checking it as Kubernetes does: its
// type, its name matching the token id, the id and secret's shapes, the
// expiration's format and the extra groups' prefix.
func FromSecret(s *corev1.Secret) (Info, error) {
	name := s.GetMetadata().GetName()
	if s.GetType() != SecretType {
		return Info{}, fmt.Errorf("secret %s is of type %q, not %q", name, s.GetType(), SecretType)
	}
	d := s.GetData()
	id, secret := string(d[KeyTokenID]), string(d[KeyTokenSecret])
	if !ValidID(id) {
		return Info{}, fmt.Errorf("secret %s: %s %q must match [a-z0-9]{6}", name, KeyTokenID, id)
	}
	if name != SecretName(id) {
		return Info{}, fmt.Errorf("secret %s: the name must be %s for %s %q", name, SecretName(id), KeyTokenID, id)
	}
	if _, err := Parse(id + "." + secret); err != nil {
		return Info{}, fmt.Errorf("secret %s: %s must match [a-z0-9]{16}", name, KeyTokenSecret)
	}
	i := Info{Token: Token{ID: id, Secret: secret}, Description: string(d[KeyDescription])}
	if e := string(d[KeyExpiration]); e != "" {
		t, err := time.Parse(time.RFC3339, e)
		if err != nil {
			return Info{}, fmt.Errorf("secret %s: %s %q is not an RFC 3339 time", name, KeyExpiration, e)
		}
		i.Expires = t
	}
	for _, u := range []string{UsageAuthentication, UsageSigning} {
		if string(d["usage-bootstrap-"+u]) == "true" {
			i.Usages = append(i.Usages, u)
		}
	}
	if g := string(d[KeyExtraGroups]); g != "" {
		for _, grp := range strings.Split(g, ",") {
			grp = strings.TrimSpace(grp)
			if !groupPattern.MatchString(grp) {
				return Info{}, fmt.Errorf("secret %s: %s %q must start with %s: and end in [a-z0-9]", name, KeyExtraGroups, grp, Group)
			}
			i.ExtraGroups = append(i.ExtraGroups, grp)
		}
	}
	return i, nil
}

// CanAuthenticate reports whether the token may be used as a bearer token at now.
func (i Info) CanAuthenticate(now time.Time) error {
	if !slices.Contains(i.Usages, UsageAuthentication) {
		return fmt.Errorf("bootstrap token %s is not marked for authentication", i.ID)
	}
	if i.Expired(now) {
		return fmt.Errorf("bootstrap token %s expired at %s", i.ID, i.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// ValidateUsages checks that every usage is one Kubernetes knows
// (authentication, signing) and that there is at least one.
func ValidateUsages(usages []string) error {
	if len(usages) == 0 {
		return fmt.Errorf("a bootstrap token needs at least one usage (%s, %s)", UsageAuthentication, UsageSigning)
	}
	for _, u := range usages {
		if u != UsageAuthentication && u != UsageSigning {
			return fmt.Errorf("usage %q is not one of %s, %s", u, UsageAuthentication, UsageSigning)
		}
	}
	return nil
}

// ValidateGroup checks an extra group: it must start with
// system:bootstrappers: and end in [a-z0-9].
func ValidateGroup(g string) error {
	if !groupPattern.MatchString(g) {
		return fmt.Errorf("group %q must start with %s: and end in [a-z0-9]", g, Group)
	}
	return nil
}
