package authn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// rejectAll is a token authenticator that knows every token and refuses it.
type rejectAll struct{}

func (rejectAll) AuthenticateToken(context.Context, string) (*User, bool, error) {
	return nil, true, errors.New("token refused")
}

func TestAnonymous(t *testing.T) {
	tests := []struct {
		name      string
		anonymous bool
		creds     Credentials
		wantUser  string
		wantErr   string
	}{
		{"no credentials, anonymous on", true, Credentials{}, AnonymousUser, ""},
		{"no credentials, anonymous off", false, Credentials{}, "", "no client certificate or bearer token was presented"},
		{"a refused token is never anonymous", true, Credentials{Token: "x"}, "", "token refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Authenticator{Tokens: []TokenAuthenticator{rejectAll{}}, Anonymous: tt.anonymous}
			u, err := a.Authenticate(context.Background(), tt.creds)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Authenticate = %v, %v; want %q", u, err, tt.wantErr)
				}
				return
			}
			if err != nil || u.Name != tt.wantUser || !slices.Equal(u.Groups, []string{GroupUnauthenticated}) {
				t.Fatalf("Authenticate = %+v, %v; want %s in %s only", u, err, tt.wantUser, GroupUnauthenticated)
			}
		})
	}
}
