package names

import (
	"math/rand/v2"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// checks pairs each fast check with the apimachinery function it stands for.
var checks = []struct {
	name string
	fast func(string) []string
	slow func(string) []string
}{
	{"Subdomain", Subdomain, validation.IsDNS1123Subdomain},
	{"Label", Label, validation.IsDNS1123Label},
	{"LabelKey", LabelKey, validation.IsQualifiedName},
	{"LabelValue", LabelValue, validation.IsValidLabelValue},
	{"PortName", PortName, validation.IsValidPortName},
	{"EnvVarName", EnvVarName, validation.IsEnvVarName},
}

func TestFastChecksAgreeWithApimachinery(t *testing.T) {
	fixed := []string{
		"", "a", "A", "-", ".", "_", "/", "a/", "/a", "a/b", "a.b/c", "a..b", "a-b", "a_b", "-a", "a-",
		"A.b", "app.kubernetes.io/name", "example.com/owner", "kubernetes.io/", "a/b/c", "Bad_Name",
		"0", "0a", "a.", ".a", "a_", "_a", "my-pod.v1", "..", "...", "http", "h--p", "80", "-http", "http-",
		"MY_ENV.NAME", "my.env-name", "1abc", "abcdefghijklmno", "abcdefghijklmnop",
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 253),
		strings.Repeat("a.", 126) + "a", strings.Repeat("a", 254), "x/" + strings.Repeat("b", 63), "x/" + strings.Repeat("b", 64),
	}
	const alphabet = "aZ09-._/ %"
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]string, 20000)
	for i := range random {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		random[i] = string(b)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range append(fixed, random...) {
				fastOK, slowOK := len(c.fast(s)) == 0, len(c.slow(s)) == 0
				if fastOK != slowOK {
					t.Fatalf("%s(%q): fast says valid=%v, apimachinery says valid=%v", c.name, s, fastOK, slowOK)
				}
			}
		})
	}
}

func TestInvalidNamesKeepKubernetesMessages(t *testing.T) {
	got := Subdomain("Bad_Name")
	want := validation.IsDNS1123Subdomain("Bad_Name")
	if len(got) == 0 || strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("Subdomain(Bad_Name) = %q, want apimachinery's %q", got, want)
	}
}
