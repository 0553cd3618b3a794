package integration

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// TestSecureCSRREST: certificate signing requests over REST as kubectl
// sends them: the requester comes from the credentials, /approval sets the
// decision, which then is final, and needs its own permission.
func TestSecureCSRREST(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	req, _, err := pki.NewCSR("system:node:n1", []string{pki.GroupNodes})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
	body := obj{
		"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
		"metadata": obj{"name": "rest-csr"},
		"spec": obj{"request": base64.StdEncoding.EncodeToString(req), "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
			"usages": []string{"digital signature", "client auth"}, "username": "someone-else"},
	}
	created := s.must(t, http.StatusCreated, "POST", path, body)
	if u := str(created, "spec", "username"); u != adminUser {
		t.Fatalf("spec.username = %q, want the authenticated %q", u, adminUser)
	}
	wantStatus(t, s.doAs(t, creds{}, "GET", path, nil), http.StatusUnauthorized, "Unauthorized")

	bob := s.issue(t, s.ca, "bob")
	approval := obj{
		"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
		"metadata": obj{"name": "rest-csr"},
		"spec":     created["spec"],
		"status":   obj{"conditions": []obj{{"type": "Approved", "status": "True", "reason": "Test"}}},
	}
	wantStatus(t, s.doAs(t, bob, "PUT", path+"/rest-csr/approval", approval), http.StatusForbidden,
		`User "bob" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io"`)
	approved := s.must(t, http.StatusOK, "PUT", path+"/rest-csr/approval", approval)
	conds, _ := get(approved, "status", "conditions").([]any)
	if len(conds) != 1 || str(conds[0].(map[string]any), "type") != "Approved" {
		t.Fatalf("conditions after approval: %v", get(approved, "status"))
	}
	// The decision is final: a denial afterwards is refused.
	denial := approval
	denial["status"] = obj{"conditions": []obj{{"type": "Denied", "status": "True", "reason": "Test"}}}
	wantStatus(t, s.do(t, "PUT", path+"/rest-csr/approval", denial), http.StatusUnprocessableEntity, "the Approved condition may not be removed or changed")
	list := s.must(t, http.StatusOK, "GET", path, nil)
	if n := names(list); len(n) != 1 || n[0] != "rest-csr" {
		t.Fatalf("list = %v", n)
	}
}

// TestSecureCSRSubresources: /approval owns the decision, /status the
// certificate and Failed; each ignores the other's fields, and a
// certificate needs the approval and is final.
func TestSecureCSRSubresources(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	csrs := s.cs.CertificateSigningRequests()
	req, _, err := pki.NewCSR("system:node:n1", []string{pki.GroupNodes})
	if err != nil {
		t.Fatal(err)
	}
	r, err := csrs.Create(ctx(t), &certificatesv1.CertificateSigningRequest{Metadata: &metav1.ObjectMeta{Name: "sub"},
		Spec: &certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: "example.com/signer", Usages: []string{"client auth"}},
		// A status sent with the create is dropped.
		Status: &certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetStatus().GetCertificate()) > 0 {
		t.Fatalf("create kept the status %v", r.GetStatus())
	}
	withStatus := func(st *certificatesv1.CertificateSigningRequestStatus) *certificatesv1.CertificateSigningRequest {
		c := proto.Clone(r).(*certificatesv1.CertificateSigningRequest)
		c.Metadata.ResourceVersion = ""
		c.Status = st
		return c
	}
	approved := []*certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: "True", Reason: "Test"}}
	_, err = csrs.UpdateStatus(ctx(t), withStatus(&certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("cert")}))
	wantGRPC(t, err, codes.InvalidArgument, "a certificate may only be issued for an approved request")
	// /status does not approve.
	got, err := csrs.UpdateStatus(ctx(t), withStatus(&certificatesv1.CertificateSigningRequestStatus{Conditions: approved}))
	if err != nil || len(got.GetStatus().GetConditions()) != 0 {
		t.Fatalf("approval through /status: %v %v", got.GetStatus(), err)
	}
	// /approval does not issue.
	got, err = csrs.UpdateApproval(ctx(t), withStatus(&certificatesv1.CertificateSigningRequestStatus{Conditions: approved, Certificate: []byte("cert")}))
	if err != nil || len(got.GetStatus().GetConditions()) != 1 || len(got.GetStatus().GetCertificate()) != 0 {
		t.Fatalf("approval: %v %v", got.GetStatus(), err)
	}
	got, err = csrs.UpdateStatus(ctx(t), withStatus(&certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("cert")}))
	if err != nil || string(got.GetStatus().GetCertificate()) != "cert" || len(got.GetStatus().GetConditions()) != 1 {
		t.Fatalf("issue: %v %v", got.GetStatus(), err)
	}
	_, err = csrs.UpdateStatus(ctx(t), withStatus(&certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("other")}))
	wantGRPC(t, err, codes.InvalidArgument, "the certificate may not be changed once issued")
}
