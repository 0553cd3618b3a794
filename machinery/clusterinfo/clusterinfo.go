// Package clusterinfo is kubeadm's discovery object: the cluster-info
// ConfigMap in kube-public, whose kubeconfig key holds the apiserver's
// address and CA (no credentials) and whose jws-kubeconfig-<token-id> keys
// hold a detached JWS (RFC 7515 appendix F) over that kubeconfig: HS256
// keyed by the bootstrap token's secret with its id as kid, exactly as
// Kubernetes' bootstrap signer computes it, so a joining node holding the
// token can trust the kubeconfig (and kubeadm's clients accept ours).
package clusterinfo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
)

const (
	// Namespace holds the ConfigMap; anonymous users may read it.
	Namespace = "kube-public"
	// Name is the ConfigMap's name.
	Name = "cluster-info"
	// KeyKubeconfig is the key of the kubeconfig.
	KeyKubeconfig = "kubeconfig"
	// JWSKeyPrefix starts the key of each token's signature.
	JWSKeyPrefix = "jws-kubeconfig-"
	// RoleName is the Role (and RoleBinding) in kube-public letting
	// system:anonymous get the ConfigMap, named as kubeadm names it.
	RoleName = "kubeadm:bootstrap-signer-clusterinfo"
)

// JWSKey is the ConfigMap key of the signature made with token id.
func JWSKey(id string) string { return JWSKeyPrefix + id }

// header is the JWS protected header.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
}

var b64 = base64.RawURLEncoding

// Sign returns the detached JWS (compact serialisation without the
// payload: header..signature) of content, HS256 with the token's secret
// as the key and its id as kid, as Kubernetes' bootstrap signer makes it.
func Sign(content []byte, tok bootstraptoken.Token) string {
	h, _ := json.Marshal(header{Alg: "HS256", Kid: tok.ID}) // cannot fail
	protected := b64.EncodeToString(h)
	return protected + ".." + b64.EncodeToString(mac(protected, content, tok))
}

// ErrBadSignature is a signature that does not match the content and token.
var ErrBadSignature = errors.New("the signature does not match the content and the token")

// Verify checks a detached JWS of content made with tok. Only HS256 is
// accepted (never "none" or another algorithm the header names).
func Verify(content []byte, jws string, tok bootstraptoken.Token) error {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 || parts[1] != "" {
		return errors.New("the signature is not a detached JWS (header..signature)")
	}
	raw, err := b64.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("the JWS header is not base64url: %w", err)
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("the JWS header is not JSON: %w", err)
	}
	if h.Alg != "HS256" {
		return fmt.Errorf("the JWS algorithm %q is not HS256", h.Alg)
	}
	if h.Kid != "" && h.Kid != tok.ID {
		return fmt.Errorf("the JWS was made with token %s, not %s", h.Kid, tok.ID)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("the JWS signature is not base64url: %w", err)
	}
	if !hmac.Equal(sig, mac(parts[0], content, tok)) {
		return ErrBadSignature
	}
	return nil
}

func mac(protected string, content []byte, tok bootstraptoken.Token) []byte {
	m := hmac.New(sha256.New, []byte(tok.Secret))
	m.Write([]byte(protected))
	m.Write([]byte{'.'})
	m.Write([]byte(b64.EncodeToString(content)))
	return m.Sum(nil)
}
