package authn

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/component/pki"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"google.golang.org/protobuf/proto"
)

func mustCA(t *testing.T, name string) *pki.CA {
	t.Helper()
	ca, err := pki.NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestCertAuthenticator(t *testing.T) {
	ca, other := mustCA(t, "cluster"), mustCA(t, "other")
	a := NewCertAuthenticator(ca.Pool())
	issue := func(ca *pki.CA, user string, groups ...string) []*x509.Certificate {
		kp, err := ca.IssueClient(user, groups, 0)
		if err != nil {
			t.Fatal(err)
		}
		return []*x509.Certificate{kp.Cert}
	}
	serving, err := ca.IssueServing("srv", pki.APIServerNames(nil, nil), 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		chain      []*x509.Certificate
		wantUser   string
		wantGroups []string
		wantErr    string
	}{
		{"admin", issue(ca, "kubernetes-admin", "system:masters"), "kubernetes-admin", []string{"system:masters", GroupAuthenticated}, ""},
		{"node", issue(ca, "system:node:n1", "system:nodes"), "system:node:n1", []string{"system:nodes", GroupAuthenticated}, ""},
		{"other CA", issue(other, "mallory", "system:masters"), "", nil, `client certificate "mallory": signed by an unknown authority`},
		{"serving certificate", []*x509.Certificate{serving.Cert}, "", nil, "incompatible key usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // the second answer comes from the cache
				u, err := a.Authenticate(tt.chain)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Authenticate = %v, %v; want %q", u, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if u.Name != tt.wantUser || !slices.Equal(u.Groups, tt.wantGroups) {
					t.Fatalf("user %+v, want %s %v", u, tt.wantUser, tt.wantGroups)
				}
			}
		})
	}
}

func writeFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenFile(t *testing.T) {
	tf, err := LoadTokenFile(writeFile(t, "# comment\ns3cret,alice,1001,\"dev,ops\"\ntok2,bob,1002\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := tf.AuthenticateToken(context.Background(), "s3cret")
	if err != nil || !ok || u.Name != "alice" || u.UID != "1001" || !slices.Equal(u.Groups, []string{"dev", "ops", GroupAuthenticated}) {
		t.Fatalf("alice = %+v %v %v", u, ok, err)
	}
	if _, ok, _ := tf.AuthenticateToken(context.Background(), "nope"); ok {
		t.Fatal("an unknown token matched")
	}
	bad := []struct{ name, content, wantErr string }{
		{"two fields", "tok,alice\n", "line 1: want token,user,uid"},
		{"empty user", "tok,,1\n", "line 1: the token and the user name must not be empty"},
		{"duplicate", "tok,a,1\ntok,b,2\n", "line 2: a token appears twice"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTokenFile(writeFile(t, tt.content, 0o600))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadTokenFile = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// secrets is a SecretSource of a map.
type secrets map[string]*corev1.Secret

func (s secrets) Get(key string) (proto.Message, bool) {
	o, ok := s[key]
	return o, ok
}

func TestBootstrapTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	good := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	expired := bootstraptoken.Token{ID: "zzzzzz", Secret: "0123456789abcdef"}
	src := secrets{
		"kube-system/bootstrap-token-abcdef": bootstraptoken.New(good, time.Hour, now, "").AsSecret(),
		"kube-system/bootstrap-token-zzzzzz": bootstraptoken.New(expired, time.Hour, now.Add(-2*time.Hour), "").AsSecret(),
	}
	b := NewBootstrapTokens(src)
	b.now = func() time.Time { return now }
	tests := []struct {
		name, token, wantErr string
		wantOK               bool
	}{
		{"valid", good.String(), "", true},
		{"expired", expired.String(), "bootstrap token zzzzzz expired at 2025-12-31T23:00:00Z", true},
		{"unknown", "qqqqqq.0123456789abcdef", "bootstrap token qqqqqq is unknown", true},
		{"wrong secret", "abcdef.aaaaaaaaaaaaaaaa", "the secret does not match", true},
		{"not a bootstrap token", "some-static-token", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok, err := b.AuthenticateToken(context.Background(), tt.token)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
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
			if ok && (u.Name != "system:bootstrap:abcdef" || !slices.Contains(u.Groups, "system:bootstrappers")) {
				t.Fatalf("user %+v", u)
			}
		})
	}
}

func TestServiceAccounts(t *testing.T) {
	key := mustCA(t, "sa").Key
	sa, err := NewServiceAccounts(key, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sa.Issue("team-a", "builder", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := sa.AuthenticateToken(context.Background(), tok)
	if err != nil || !ok {
		t.Fatalf("AuthenticateToken: %v %v", ok, err)
	}
	if u.Name != "system:serviceaccount:team-a:builder" || !slices.Equal(u.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:team-a"}) {
		t.Fatalf("user %+v", u)
	}
	t.Run("expired", func(t *testing.T) {
		sa.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		defer func() { sa.now = time.Now }()
		if _, ok, err := sa.AuthenticateToken(context.Background(), tok); !ok || err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired token: %v %v", ok, err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other, err := NewServiceAccounts(mustCA(t, "x").Key, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := other.AuthenticateToken(context.Background(), tok); !ok || err == nil || !strings.Contains(err.Error(), "signature is invalid") {
			t.Fatalf("token of another key: %v %v", ok, err)
		}
	})
	t.Run("other issuer is not ours", func(t *testing.T) {
		other, err := NewServiceAccounts(key, "https://elsewhere")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := other.AuthenticateToken(context.Background(), tok); ok {
			t.Fatal("a token of another issuer was claimed")
		}
	})
	t.Run("key file permissions", func(t *testing.T) {
		pem, err := pki.EncodeKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadServiceAccountKey(writeFile(t, string(pem), 0o644)); err == nil || !strings.Contains(err.Error(), "mode 0644") {
			t.Fatalf("LoadServiceAccountKey of a 0644 file = %v", err)
		}
		if _, err := LoadServiceAccountKey(writeFile(t, string(pem), 0o600)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMiddleware(t *testing.T) {
	tf, err := LoadTokenFile(writeFile(t, "s3cret,alice,1,dev\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	a := &Authenticator{Tokens: []TokenAuthenticator{tf}, Anonymous: true}
	var seen *User
	var spoofed string
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = FromContext(r.Context())
		spoofed = r.Header.Get("Grpc-Metadata-X-Tugboat-User") + r.Header.Get("X-Tugboat-User")
	}))
	const unauthorized = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}` + "\n"
	tests := []struct {
		name, method, path, auth string
		wantCode                 int
		wantBody                 string
		wantUser                 string
	}{
		{"no credentials", "GET", "/api/v1/pods", "", 401, unauthorized, ""},
		{"bad token", "GET", "/api/v1/pods", "Bearer nope", 401, `"message":"Unauthorized: invalid bearer token"`, ""},
		{"good token", "GET", "/api/v1/pods", "Bearer s3cret", 200, "", "alice"},
		{"health is public", "GET", "/readyz", "", 200, "", AnonymousUser},
		{"a health check's subpath is public", "GET", "/healthz/etcd", "", 200, "", AnonymousUser},
		{"version is public", "GET", "/version", "", 200, "", AnonymousUser},
		{"cluster-info is public", "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", "", 200, "", AnonymousUser},
		{"HEAD of a public path", "HEAD", "/livez", "", 200, "", AnonymousUser},
		{"a watch of cluster-info is not", "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info?watch=true", "", 401, unauthorized, ""},
		{"another config map is not", "GET", "/api/v1/namespaces/kube-public/configmaps/other", "", 401, unauthorized, ""},
		{"cluster-info elsewhere is not", "GET", "/api/v1/namespaces/default/configmaps/cluster-info", "", 401, unauthorized, ""},
		{"writing cluster-info is not", "PUT", "/api/v1/namespaces/kube-public/configmaps/cluster-info", "", 401, unauthorized, ""},
		{"a POST to a public path is not", "POST", "/healthz", "", 401, unauthorized, ""},
		{"metrics are not", "GET", "/metrics", "", 401, unauthorized, ""},
		{"discovery is not", "GET", "/api", "", 401, unauthorized, ""},
		{"a bad token on a public path", "GET", "/version", "Bearer nope", 401, "invalid bearer token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen, spoofed = nil, ""
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			r.Header.Set("Grpc-Metadata-X-Tugboat-User", "admin")
			r.Header.Set("X-Tugboat-User", "admin")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || !strings.Contains(w.Body.String(), tt.wantBody) {
				t.Fatalf("%d %s, want %d %q", w.Code, w.Body, tt.wantCode, tt.wantBody)
			}
			if tt.wantCode == 200 && (seen == nil || seen.Name != tt.wantUser) {
				t.Fatalf("user %+v, want %s", seen, tt.wantUser)
			}
			if spoofed != "" {
				t.Fatalf("x-tugboat headers reached the handler: %q", spoofed)
			}
			md := GatewayMetadata(WithUser(context.Background(), &User{Name: "alice", Groups: []string{"dev"}}), r)
			if md.Get(mdUser)[0] != "alice" || md.Get(mdGroups)[0] != "dev" {
				t.Fatalf("gateway metadata %v", md)
			}
		})
	}
}
