package integration

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// TestSecureCSRREST: certificate signing requests over REST as kubectl
// sends them: the requester comes from the credentials, /approval sets the
// decision, which then is final, and needs its own permission.
func TestSecureCSRREST(t *testing.T) {
	t.Parallel()
	s := start(t, options{secure: true})
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
