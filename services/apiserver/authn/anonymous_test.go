package authn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
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
		{"a public request, anonymous on", true, Credentials{Public: true}, AnonymousUser, ""},
		{"a public request, anonymous off", false, Credentials{Public: true}, "", "no client certificate or bearer token was presented"},
		{"any other request, anonymous on", true, Credentials{}, "", "no client certificate or bearer token was presented"},
		{"a refused token is never anonymous", true, Credentials{Token: "x", Public: true}, "", "token refused"},
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

func TestPublicGRPC(t *testing.T) {
	const get = "/tugboat.core.v1.ConfigMapService/Get"
	tests := []struct {
		name   string
		method string
		req    any
		want   bool
	}{
		{"get cluster-info", get, &metav1.GetOptions{Namespace: "kube-public", Name: "cluster-info"}, true},
		{"get another config map", get, &metav1.GetOptions{Namespace: "kube-public", Name: "other"}, false},
		{"cluster-info in another namespace", get, &metav1.GetOptions{Namespace: "default", Name: "cluster-info"}, false},
		{"list config maps", "/tugboat.core.v1.ConfigMapService/List", &metav1.ListOptions{Namespace: "kube-public"}, false},
		{"get a secret of that name", "/tugboat.core.v1.SecretService/Get", &metav1.GetOptions{Namespace: "kube-public", Name: "cluster-info"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PublicGRPC(tt.method, tt.req); got != tt.want {
				t.Fatalf("PublicGRPC = %v, want %v", got, tt.want)
			}
		})
	}
}
