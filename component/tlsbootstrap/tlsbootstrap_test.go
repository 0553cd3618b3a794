package tlsbootstrap

import (
	"errors"
	"strings"
	"testing"

	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestIssued(t *testing.T) {
	cond := func(ty string) *certificatesv1.CertificateSigningRequestCondition {
		return &certificatesv1.CertificateSigningRequestCondition{Type: ty, Status: "True", Reason: "R", Message: "m"}
	}
	tests := []struct {
		name     string
		status   *certificatesv1.CertificateSigningRequestStatus
		wantCert string
		wantErr  string
	}{
		{"pending", nil, "", ""},
		{"approved, not signed", &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{cond("Approved")}}, "", ""},
		{"issued", &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{cond("Approved")}, Certificate: []byte("PEM")}, "PEM", ""},
		{"denied", &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{cond("Denied")}}, "", "refused: Denied R: m"},
		{"failed", &certificatesv1.CertificateSigningRequestStatus{Conditions: []*certificatesv1.CertificateSigningRequestCondition{cond("Approved"), cond("Failed")}}, "", "refused: Failed R: m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := issued(&certificatesv1.CertificateSigningRequest{Metadata: &metav1.ObjectMeta{Name: "x"}, Status: tt.status})
			if string(cert) != tt.wantCert {
				t.Errorf("certificate %q, want %q", cert, tt.wantCert)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want ErrDenied and %q", err, tt.wantErr)
			}
		})
	}
}

func TestRequestName(t *testing.T) {
	a, err := requestName("n1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := requestName("n1")
	if !strings.HasPrefix(a, "node-csr-n1-") || a == b {
		t.Fatalf("names %q and %q", a, b)
	}
}
