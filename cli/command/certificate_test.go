package command

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	certificatesv1 "github.com/tugboat-sh/tugboat/gen/tugboat/certificates/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// createCSR stores a kubelet client CSR named name directly (tug has no
// manifest for one in the tests).
func createCSR(t *testing.T, name string, seconds *int32) {
	t.Helper()
	cfg, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := config.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req, _, err := pki.NewCSR("system:node:"+name, []string{pki.GroupNodes})
	if err != nil {
		t.Fatal(err)
	}
	_, err = clientset.New(conn).CertificateSigningRequests().Create(context.Background(), &certificatesv1.CertificateSigningRequest{
		Metadata: &metav1.ObjectMeta{Name: name},
		Spec: &certificatesv1.CertificateSigningRequestSpec{Request: req, SignerName: "kubernetes.io/kube-apiserver-client-kubelet",
			Usages: []string{"digital signature", "client auth"}, ExpirationSeconds: seconds},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tug(t, "delete", "csr", name) })
}

func TestCertificateApproveDeny(t *testing.T) {
	day := int32(86400)
	createCSR(t, "csr-a", &day)
	createCSR(t, "csr-b", nil)

	table := ok(t, "get", "csr")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION" {
		t.Fatalf("header %q", lines[0])
	}
	// The requestor is who created them: the admin's client certificate.
	rowA := regexp.MustCompile(`^csr-a\s+\d+s\s+kubernetes.io/kube-apiserver-client-kubelet\s+kubernetes-admin\s+24h\s+Pending$`)
	rowB := regexp.MustCompile(`^csr-b\s+\d+s\s+kubernetes.io/kube-apiserver-client-kubelet\s+kubernetes-admin\s+<none>\s+Pending$`)
	if !rowA.MatchString(strings.TrimSpace(lines[1])) || !rowB.MatchString(strings.TrimSpace(lines[2])) {
		t.Fatalf("rows:\n%s", table)
	}

	if got := ok(t, "certificate", "approve", "csr-a"); got != "certificatesigningrequest.certificates.k8s.io/csr-a approved\n" {
		t.Errorf("approve printed %q", got)
	}
	if got := ok(t, "certificate", "approve", "csr-a"); got != "certificatesigningrequest.certificates.k8s.io/csr-a approved\n" {
		t.Errorf("approving again printed %q", got)
	}
	if got := ok(t, "certificate", "deny", "csr-b"); got != "certificatesigningrequest.certificates.k8s.io/csr-b denied\n" {
		t.Errorf("deny printed %q", got)
	}
	table = ok(t, "get", "csr")
	if !regexp.MustCompile(`(?m)^csr-a .*\sApproved$`).MatchString(table) || !regexp.MustCompile(`(?m)^csr-b .*\sDenied$`).MatchString(table) {
		t.Errorf("after the decisions:\n%s", table)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"deny an approved request", []string{"certificate", "deny", "csr-a"}, "certificatesigningrequest.certificates.k8s.io/csr-a is already Approved"},
		{"forced: the apiserver refuses", []string{"certificate", "deny", "--force", "csr-a"}, "Approved and Denied conditions are mutually exclusive"},
		{"missing", []string{"certificate", "approve", "nope"}, `Error from server (NotFound): certificatesigningrequests "nope" not found`},
		{"no name", []string{"certificate", "approve"}, "requires at least 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tug(t, tt.args...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.err, tt.want)
			}
		})
	}
}
