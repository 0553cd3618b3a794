package validation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"

	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func csrPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestCSR(t *testing.T) {
	req := csrPEM(t)
	ten := int32(60)
	csr := func(mut func(*certificatesv1.CertificateSigningRequest)) *certificatesv1.CertificateSigningRequest {
		c := &certificatesv1.CertificateSigningRequest{Metadata: &metav1.ObjectMeta{Name: "node-csr-1"}, Spec: &certificatesv1.CertificateSigningRequestSpec{
			Request: req, SignerName: "kubernetes.io/kube-apiserver-client-kubelet", Usages: []string{"digital signature", "client auth"}}}
		if mut != nil {
			mut(c)
		}
		return c
	}
	cond := func(types ...string) *certificatesv1.CertificateSigningRequestStatus {
		st := &certificatesv1.CertificateSigningRequestStatus{}
		for _, ty := range types {
			st.Conditions = append(st.Conditions, &certificatesv1.CertificateSigningRequestCondition{Type: ty, Status: "True"})
		}
		return st
	}
	tests := []struct {
		name    string
		obj     *certificatesv1.CertificateSigningRequest
		wantErr string
	}{
		{"ok", csr(nil), ""},
		{"approved", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Status = cond("Approved") }), ""},
		{"no request", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = nil }), "spec.request: Required value"},
		{"not PEM", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = []byte("hello") }), "spec.request: Invalid value: \"<bytes>\": must be a PEM block of type CERTIFICATE REQUEST"},
		{"bad signature", csr(func(c *certificatesv1.CertificateSigningRequest) {
			b, _ := pem.Decode(req)
			der := append([]byte(nil), b.Bytes...)
			der[len(der)-3] ^= 0xff
			c.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
		}), "spec.request: Invalid value"},
		{"no signer", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "" }), "spec.signerName: Required value"},
		{"bad signer", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "kubelet" }), `spec.signerName: Invalid value: "kubelet"`},
		{"short expiry", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = &ten }), "spec.expirationSeconds: Invalid value: 60"},
		{"no usages", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = nil }), "spec.usages: Required value"},
		{"unknown usage", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = []string{"root"} }), `spec.usages[0]: Unsupported value: "root"`},
		{"approved and denied", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Status = cond("Approved", "Denied") }), "mutually exclusive"},
		{"unknown condition", csr(func(c *certificatesv1.CertificateSigningRequest) { c.Status = cond("Signed") }), `status.conditions[0].type: Unsupported value: "Signed"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.obj)
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if !strings.Contains(errs.Error(), tt.wantErr) {
				t.Fatalf("errors %q lack %q", errs.Error(), tt.wantErr)
			}
		})
	}
	t.Run("update", func(t *testing.T) {
		old := csr(func(c *certificatesv1.CertificateSigningRequest) { c.Status = cond("Approved") })
		changed := csr(func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = []string{"client auth"}
			c.Status = cond("Approved")
		})
		if errs := ValidateUpdate(changed, old); !strings.Contains(errs.Error(), "spec: Invalid value: field is immutable") {
			t.Errorf("changing the spec: %v", errs)
		}
		denied := csr(func(c *certificatesv1.CertificateSigningRequest) { c.Status = cond("Denied") })
		if errs := ValidateUpdate(denied, old); !strings.Contains(errs.Error(), "the Approved condition may not be removed or changed") {
			t.Errorf("approved to denied: %v", errs)
		}
		if errs := ValidateUpdate(old, csr(nil)); len(errs) > 0 {
			t.Errorf("approving: %v", errs)
		}
	})
}
