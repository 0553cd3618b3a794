package clusterinfo

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
)

func TestSignVerify(t *testing.T) {
	tok := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	other := bootstraptoken.Token{ID: "abcdef", Secret: "fedcba9876543210"}
	content := []byte("apiVersion: v1\nkind: Config\n")
	jws := Sign(content, tok)
	if !strings.Contains(jws, "..") {
		t.Fatalf("signature %q is not detached", jws)
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"abcdef"}`))
	tests := []struct {
		name    string
		content []byte
		jws     string
		tok     bootstraptoken.Token
		want    string
	}{
		{"good", content, jws, tok, ""},
		{"wrong token", content, jws, other, "does not match"},
		{"tampered content", append([]byte("x"), content...), jws, tok, "does not match"},
		{"alg none", content, none + "..", tok, `algorithm "none" is not HS256`},
		{"not detached", content, "a.b.c", tok, "not a detached JWS"},
		{"other kid", content, Sign(content, bootstraptoken.Token{ID: "zzzzzz", Secret: tok.Secret}), tok, "made with token zzzzzz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.content, tt.jws, tt.tok)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestKubernetesVectors checks signatures against ones Kubernetes'
// bootstrap signer (k8s.io/cluster-bootstrap/token/jws, go-jose) computes
// for the same content, id and secret, so kubeadm clients accept ours.
func TestKubernetesVectors(t *testing.T) {
	const content = "Hello from the other side. I must have called a thousand times."
	tests := []struct {
		name, content, id, secret, want string
	}{
		{"content", content, "joshua", "my voice is my passcode", "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"},
		{"empty content", "", "joshua", "my voice is my passcode", "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"},
		{"1 byte secret", "content", "id", "x", "eyJhbGciOiJIUzI1NiIsImtpZCI6ImlkIn0..x-LVIHM7D6uo6buZFEW2ldnwJL2Ddduh2ZhxFN33v5w"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := bootstraptoken.Token{ID: tt.id, Secret: tt.secret}
			if got := Sign([]byte(tt.content), tok); got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
			if err := Verify([]byte(tt.content), tt.want, tok); err != nil {
				t.Errorf("Verify(Kubernetes' signature) = %v", err)
			}
		})
	}
}
