package authn

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/protobuf/proto"
)

// accounts is an AccountSource over a map.
type accounts map[string]*corev1.ServiceAccount

func (a accounts) Get(key string) (proto.Message, bool) {
	sa, ok := a[key]
	return sa, ok
}

func TestBoundServiceAccountTokens(t *testing.T) {
	sa, err := NewServiceAccounts(mustCA(t, "sa").Key, "")
	if err != nil {
		t.Fatal(err)
	}
	src := accounts{"team-a/builder": {Metadata: &metav1.ObjectMeta{Namespace: "team-a", Name: "builder", Uid: "uid-1"}}}
	sa.Bind([]string{DefaultAPIAudience}, src)
	issue := func(spec TokenSpec) string {
		t.Helper()
		tok, exp, err := sa.IssueToken(spec)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Now().Add(spec.TTL); exp.Before(want.Add(-2*time.Second)) || exp.After(want.Add(time.Second)) {
			t.Fatalf("expiry %v, want about %v", exp, want)
		}
		return tok
	}
	good := TokenSpec{Namespace: "team-a", Name: "builder", UID: "uid-1", TTL: time.Hour, Audiences: []string{"other", DefaultAPIAudience}}
	tests := []struct {
		name    string
		spec    TokenSpec
		later   time.Duration
		wantErr string
	}{
		{"good", good, 0, ""},
		{"wrong audience", TokenSpec{Namespace: "team-a", Name: "builder", UID: "uid-1", TTL: time.Hour, Audiences: []string{"https://elsewhere"}}, 0, "does not include the apiserver's"},
		{"no audience", TokenSpec{Namespace: "team-a", Name: "builder", UID: "uid-1", TTL: time.Hour}, 0, "does not include the apiserver's"},
		{"no such account", TokenSpec{Namespace: "team-a", Name: "gone", UID: "uid-1", TTL: time.Hour, Audiences: []string{DefaultAPIAudience}}, 0, "team-a/gone does not exist"},
		{"account re-created", TokenSpec{Namespace: "team-a", Name: "builder", UID: "uid-0", TTL: time.Hour, Audiences: []string{DefaultAPIAudience}}, 0, `not the token's "uid-0"`},
		{"expired", good, 2 * time.Hour, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := issue(tt.spec)
			sa.now = func() time.Time { return time.Now().Add(tt.later) }
			defer func() { sa.now = time.Now }()
			u, ok, err := sa.AuthenticateToken(context.Background(), tok)
			if !ok {
				t.Fatal("a token of this issuer was not claimed")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "system:serviceaccount:team-a:builder" || u.UID != "uid-1" ||
				!slices.Equal(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:team-a"}) {
				t.Fatalf("user %+v", u)
			}
		})
	}
	t.Run("no audiences bound means the default", func(t *testing.T) {
		other, err := NewServiceAccounts(mustCA(t, "sa2").Key, "")
		if err != nil {
			t.Fatal(err)
		}
		other.Bind(nil, src)
		tok, _, err := other.IssueToken(TokenSpec{Namespace: "team-a", Name: "builder", UID: "uid-1", Audiences: []string{"https://elsewhere"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := other.AuthenticateToken(context.Background(), tok); err == nil || !strings.Contains(err.Error(), DefaultAPIAudience) {
			t.Fatalf("token for another audience: %v", err)
		}
		if got := other.Audiences(); !slices.Equal(got, []string{DefaultAPIAudience}) {
			t.Fatalf("Audiences() = %v", got)
		}
	})
	t.Run("deleted account", func(t *testing.T) {
		tok := issue(good)
		delete(src, "team-a/builder")
		if _, ok, err := sa.AuthenticateToken(context.Background(), tok); !ok || err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("token of a deleted account: %v %v", ok, err)
		}
	})
}
