package bootstraptoken

import (
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestGenerate(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)
	seen := map[string]bool{}
	for range 200 {
		tok, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(tok.String()) {
			t.Fatalf("token %q does not match %s", tok, re)
		}
		if seen[tok.ID] {
			t.Fatalf("id %s generated twice", tok.ID)
		}
		seen[tok.ID] = true
		back, err := Parse(tok.String())
		if err != nil || back != tok {
			t.Fatalf("Parse(%s) = %v, %v", tok, back, err)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Token
		wantErr bool
	}{
		{"abcdef.0123456789abcdef", Token{"abcdef", "0123456789abcdef"}, false},
		{"ABCDEF.0123456789abcdef", Token{}, true},
		{"abcde.0123456789abcdef", Token{}, true},
		{"abcdef.0123456789abcde", Token{}, true},
		{"abcdef0123456789abcdef", Token{}, true},
		{"abcdef.0123456789abcdef ", Token{}, true},
		{"", Token{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "malformed") {
					t.Fatalf("Parse = %v, want a malformed error", err)
				}
				if len(tt.in) > 7 && strings.Contains(err.Error(), tt.in[8:]) {
					t.Fatalf("error %q shows the secret", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse = %v, %v", got, err)
			}
		})
	}
}

func TestSecretRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	i := New(Token{"abcdef", "0123456789abcdef"}, 0, now, "join nodes")
	s := i.AsSecret()
	if s.Metadata.Name != "bootstrap-token-abcdef" || s.Metadata.Namespace != "kube-system" || s.Type != SecretType {
		t.Fatalf("secret %v", s.Metadata)
	}
	want := map[string]string{
		"token-id": "abcdef", "token-secret": "0123456789abcdef", "expiration": "2026-01-03T03:04:05Z",
		"usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
		"auth-extra-groups": DefaultNodeGroup, "description": "join nodes",
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("data[%s] = %q, want %q", k, s.Data[k], v)
		}
	}
	back, err := FromSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.Token != i.Token || !back.Expires.Equal(i.Expires) || back.Description != i.Description {
		t.Fatalf("round trip %+v, want %+v", back, i)
	}
	if err := back.CanAuthenticate(now.Add(23 * time.Hour)); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	if err := back.CanAuthenticate(now.Add(24 * time.Hour)); err == nil || !strings.Contains(err.Error(), "expired at 2026-01-03T03:04:05Z") {
		t.Fatalf("expired token: %v", err)
	}
	if g := back.Groups(); len(g) != 2 || g[0] != Group {
		t.Fatalf("groups %v", g)
	}
}

func TestFromSecretRefuses(t *testing.T) {
	good := func() *corev1.Secret {
		return New(Token{"abcdef", "0123456789abcdef"}, time.Hour, time.Now(), "").AsSecret()
	}
	tests := []struct {
		name    string
		mutate  func(s *corev1.Secret)
		wantErr string
	}{
		{"type", func(s *corev1.Secret) { s.Type = "Opaque" }, `not "bootstrap.kubernetes.io/token"`},
		{"name", func(s *corev1.Secret) { s.Metadata = &metav1.ObjectMeta{Name: "bootstrap-token-zzzzzz"} }, "the name must be bootstrap-token-abcdef"},
		{"id", func(s *corev1.Secret) { s.Data["token-id"] = []byte("ABC") }, "token-id"},
		{"secret", func(s *corev1.Secret) { s.Data["token-secret"] = []byte("short") }, "token-secret"},
		{"expiration", func(s *corev1.Secret) { s.Data["expiration"] = []byte("tomorrow") }, "not an RFC 3339 time"},
		{"group", func(s *corev1.Secret) { s.Data["auth-extra-groups"] = []byte("system:masters") }, "must start with system:bootstrappers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.mutate(s)
			_, err := FromSecret(s)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("FromSecret = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("not for authentication", func(t *testing.T) {
		s := good()
		delete(s.Data, "usage-bootstrap-authentication")
		i, err := FromSecret(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := i.CanAuthenticate(time.Now()); err == nil {
			t.Fatal("a token without the authentication usage authenticates")
		}
	})
}
