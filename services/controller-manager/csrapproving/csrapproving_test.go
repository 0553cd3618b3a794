package csrapproving

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
)

func request(t *testing.T, cn string, orgs []string, dns ...string) []byte {
	t.Helper()
	_, key, err := pki.NewCSR("x", nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestApprovable(t *testing.T) {
	nodes := []string{"system:nodes"}
	good := request(t, "system:node:n1", nodes)
	bootstrap := []string{"system:bootstrappers", "system:bootstrappers:tugboat:default-node-token", "system:authenticated"}
	client := []string{"digital signature", "client auth"}
	tests := []struct {
		name     string
		req      []byte
		usages   []string
		user     string
		groups   []string
		ok       bool
		contains string
		existing bool // a Node n1 exists
	}{
		{"bootstrap token joins", good, client, "system:bootstrap:abcdef", bootstrap, true, "bootstrap token", false},
		{"key encipherment allowed", good, append(client, "key encipherment"), "system:bootstrap:abcdef", bootstrap, true, "", false},
		{"node renews itself", good, client, "system:node:n1", []string{"system:nodes", "system:authenticated"}, true, "renewal requested by node n1", false},
		{"node renews itself while its Node exists", good, client, "system:node:n1", []string{"system:nodes", "system:authenticated"}, true, "renewal requested by node n1", true},
		{"bootstrap token for an existing node", good, client, "system:bootstrap:abcdef", bootstrap, false, `node "n1" already exists: a bootstrap token may not take over a registered node's identity; the Node must be deleted before it can join again`, true},
		{"node asks for another node", good, client, "system:node:n2", []string{"system:nodes", "system:authenticated"}, false, `user "system:node:n2" may not request a certificate for "system:node:n1"`, false},
		{"ordinary user", good, client, "alice", []string{"system:authenticated"}, false, "may not request", false},
		{"server auth", good, []string{"digital signature", "client auth", "server auth"}, "system:bootstrap:abcdef", bootstrap, false, `usage "server auth" is not one of`, false},
		{"no client auth", good, []string{"digital signature"}, "system:bootstrap:abcdef", bootstrap, false, "do not include client auth", false},
		{"other subject", request(t, "admin", []string{"system:masters"}), client, "system:bootstrap:abcdef", bootstrap, false, "subject organization [system:masters]", false},
		{"extra organization", request(t, "system:node:n1", []string{"system:nodes", "system:masters"}), client, "system:bootstrap:abcdef", bootstrap, false, "subject organization", false},
		{"bare prefix", request(t, "system:node:", nodes), client, "system:bootstrap:abcdef", bootstrap, false, "does not start with", false},
		{"SANs", request(t, "system:node:n1", nodes, "evil.example"), client, "system:bootstrap:abcdef", bootstrap, false, "no subject alternative names", false},
		{"garbage", []byte("x"), client, "system:bootstrap:abcdef", bootstrap, false, "certificate request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &certificatesv1.CertificateSigningRequest{Spec: &certificatesv1.CertificateSigningRequestSpec{
				Request: tt.req, SignerName: KubeletClientSigner, Usages: tt.usages, Username: tt.user, Groups: tt.groups}}
			var asked string
			reason, ok := Approvable(r, func(node string) bool { asked = node; return tt.existing && node == "n1" })
			if tt.existing && slices.Contains(tt.groups, "system:bootstrappers") && asked != "n1" {
				t.Fatalf("Approvable asked about node %q, want n1", asked)
			}
			if ok != tt.ok || !strings.Contains(reason, tt.contains) {
				t.Fatalf("Approvable = %q, %v; want %v and %q", reason, ok, tt.ok, tt.contains)
			}
		})
	}
}

func TestDecided(t *testing.T) {
	for _, ty := range []string{"Approved", "Denied"} {
		r := &certificatesv1.CertificateSigningRequest{Status: &certificatesv1.CertificateSigningRequestStatus{
			Conditions: []*certificatesv1.CertificateSigningRequestCondition{{Type: ty, Status: "True"}}}}
		if !Decided(r) {
			t.Errorf("%s is not decided", ty)
		}
	}
	if Decided(&certificatesv1.CertificateSigningRequest{}) {
		t.Error("a new request is decided")
	}
}

// TestDecide: a bootstrap token's request for a registered node is
// denied (not left pending), with a message saying the Node must be
// deleted; a node's own renewal is approved; a stranger's request waits.
func TestDecide(t *testing.T) {
	good := request(t, "system:node:n1", []string{"system:nodes"})
	client := []string{"digital signature", "client auth"}
	bootstrap := []string{"system:bootstrappers", "system:authenticated"}
	node := []string{"system:nodes", "system:authenticated"}
	tests := []struct {
		name     string
		user     string
		groups   []string
		existing bool
		want     Decision
		contains string
	}{
		{"bootstrap token for an existing node is denied", "system:bootstrap:abcdef", bootstrap, true, Deny, "the Node must be deleted before it can join again"},
		{"bootstrap token for a new node is approved", "system:bootstrap:abcdef", bootstrap, false, Approve, "bootstrap token"},
		{"renewal by the node is approved", "system:node:n1", node, true, Approve, "renewal requested by node n1"},
		{"another node waits for a person", "system:node:n2", node, true, Pending, "may not request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &certificatesv1.CertificateSigningRequest{Spec: &certificatesv1.CertificateSigningRequestSpec{
				Request: good, SignerName: KubeletClientSigner, Usages: client, Username: tt.user, Groups: tt.groups}}
			got, reason := Decide(r, func(string) bool { return tt.existing })
			if got != tt.want || !strings.Contains(reason, tt.contains) {
				t.Fatalf("Decide = %v, %q; want %v and %q", got, reason, tt.want, tt.contains)
			}
		})
	}
}
