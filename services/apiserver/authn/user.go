// Package authn authenticates the apiserver's requests: client
// certificates verified against the client CA (user from CN, groups from
// O), bearer tokens from a static token file, bootstrap tokens (from their
// Secrets in kube-system, read from a watch-fed cache) and service-account
// JWTs the apiserver signs. The gRPC interceptors and the HTTP middleware
// put the User in the request's context; the REST gateway forwards it to
// the gRPC server over the in-process connection only, where it is trusted.
package authn

import (
	"context"
	"slices"
)

// Well-known groups every authenticated user is in, or none is.
const (
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	GroupMasters         = "system:masters"
)

// User is who a request is from.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// InGroup reports whether the user is in group g.
func (u *User) InGroup(g string) bool { return u != nil && slices.Contains(u.Groups, g) }

// withAuthenticated adds system:authenticated to the groups once.
func withAuthenticated(u *User) *User {
	if !slices.Contains(u.Groups, GroupAuthenticated) {
		u.Groups = append(slices.Clip(u.Groups), GroupAuthenticated)
	}
	return u
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// FromContext returns the request's user, if it was authenticated.
func FromContext(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}

// Slot receives the user of a call from the authentication interceptor,
// for an interceptor that runs before it (audit, which also logs the calls
// authentication refuses).
type Slot struct {
	User *User
	// Refused is why authentication refused the call, if it did.
	Refused error
	// Verb is the verb the REST gateway recorded (patch), "" otherwise.
	Verb string
}

type slotKey struct{}

// WithSlot returns ctx carrying a new slot.
func WithSlot(ctx context.Context) (context.Context, *Slot) {
	s := &Slot{}
	return context.WithValue(ctx, slotKey{}, s), s
}

// refuseSlot records in ctx's slot why the call was refused.
func refuseSlot(ctx context.Context, err error) {
	if s, ok := ctx.Value(slotKey{}).(*Slot); ok {
		s.Refused = err
	}
}

// fillSlot records u in ctx's slot, if it has one.
func fillSlot(ctx context.Context, u *User) {
	if s, ok := ctx.Value(slotKey{}).(*Slot); ok {
		s.User = u
	}
}
