package command

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
)

func TestTokenCreateListDelete(t *testing.T) {
	out := ok(t, "token", "create", "--description", "for node-3", "--ttl", "2h")
	tok, err := bootstraptoken.Parse(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("token create printed %q: %v", out, err)
	}
	ok(t, "token", "create", "abcdef.0123456789abcdef", "--ttl", "0", "--usages", "authentication", "--groups", "system:bootstrappers:extra")
	t.Cleanup(func() { tug(t, "token", "delete", tok.ID, "abcdef") })

	list := ok(t, "token", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS" {
		t.Fatalf("header %q", lines[0])
	}
	want := map[string]*regexp.Regexp{
		tok.String():              regexp.MustCompile(`^` + regexp.QuoteMeta(tok.String()) + `\s+(1h|2h)\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+authentication,signing\s+for node-3\s+system:bootstrappers:tugboat:default-node-token$`),
		"abcdef.0123456789abcdef": regexp.MustCompile(`^abcdef\.0123456789abcdef\s+<forever>\s+<never>\s+authentication\s+<none>\s+system:bootstrappers:extra$`),
	}
	for name, re := range want {
		found := false
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, name) {
				found = true
				if !re.MatchString(strings.TrimRight(l, " ")) {
					t.Errorf("row %q does not match %s", l, re)
				}
			}
		}
		if !found {
			t.Errorf("token %s not listed:\n%s", name, list)
		}
	}

	if got := ok(t, "token", "delete", tok.String()); got != "bootstrap token \""+tok.ID+"\" deleted\n" {
		t.Errorf("delete printed %q", got)
	}
	ok(t, "token", "delete", "abcdef")
	if list := ok(t, "token", "list"); strings.Contains(list, tok.ID) || strings.Contains(list, "abcdef") {
		t.Errorf("deleted tokens still listed:\n%s", list)
	}
	r := tug(t, "token", "delete", "abcdef")
	if r.code == 0 || !strings.Contains(r.err, "NotFound") {
		t.Errorf("deleting a missing token: exit %d, %q", r.code, r.err)
	}
}

func TestTokenBadInput(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	if err := config.Write(plain, config.KubeconfigSpec{Server: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed token", []string{"create", "ABCDEF.0123456789abcdef"}, `bootstrap token "ABCDEF...." is malformed: it must match [a-z0-9]{6}.[a-z0-9]{16}`},
		{"negative ttl", []string{"create", "--ttl", "-1h"}, "--ttl -1h0m0s: must not be negative"},
		{"bad ttl", []string{"create", "--ttl", "soon"}, `invalid argument "soon" for "--ttl"`},
		{"bad usage", []string{"create", "--usages", "signing,root"}, `--usages: usage "root" is not one of authentication, signing`},
		{"bad group", []string{"create", "--groups", "system:masters"}, `--groups: group "system:masters" must start with system:bootstrappers:`},
		{"join without CA", []string{"--kubeconfig", plain, "create", "--print-join-command"}, "has no certificate authority"},
		{"malformed id", []string{"delete", "ABC"}, `token id "ABC" is malformed: it must match [a-z0-9]{6}`},
		{"malformed token to delete", []string{"delete", "abcdef.x"}, `bootstrap token "abcdef...." is malformed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tug(t, append([]string{"token"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error containing %q", r.code, r.err, tt.want)
			}
		})
	}
	// Nothing was written by the refused creates.
	if list := ok(t, "token", "list"); len(strings.Split(strings.TrimSpace(list), "\n")) != 1 {
		t.Errorf("refused creates left tokens:\n%s", list)
	}
}

func TestTokenJoinCommand(t *testing.T) {
	ca, err := pki.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	tok := bootstraptoken.Token{ID: "abcdef", Secret: "0123456789abcdef"}
	env := &Env{cfg: &config.Config{Server: "https://10.1.2.3:6443", CAData: ca.CertPEM()}}
	got, err := joinCommand(env, tok)
	if err != nil {
		t.Fatal(err)
	}
	want := "tug join 10.1.2.3:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash " + pki.Hash(ca.Cert)
	if got != want {
		t.Errorf("join command %q, want %q", got, want)
	}
	if !strings.HasPrefix(pki.Hash(ca.Cert), "sha256:") {
		t.Errorf("hash %q lacks sha256:", pki.Hash(ca.Cert))
	}
}

// TestTokenPrintJoinCommand creates a token and prints tug init's join
// line for it, with the hash of the cluster's CA.
func TestTokenPrintJoinCommand(t *testing.T) {
	out := ok(t, "token", "create", "--print-join-command", "--ttl", "1h")
	ca, err := pki.Dir(certDir).Load(pki.CAName)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := config.Load(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(kc.Server, "https://")
	m := regexp.MustCompile(`^tug join (\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$`).FindStringSubmatch(out)
	if m == nil || m[1] != target || m[3] != pki.Hash(ca.Cert) {
		t.Fatalf("printed %q; want the join line for %s with %s", out, target, pki.Hash(ca.Cert))
	}
	tok, err := bootstraptoken.Parse(m[2])
	if err != nil {
		t.Fatal(err)
	}
	if list := ok(t, "token", "list"); !strings.Contains(list, m[2]) {
		t.Errorf("token list lacks the printed token:\n%s", list)
	}
	ok(t, "token", "delete", tok.ID)
}
