package bootstrapsigner

import (
	"maps"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/machinery/clusterinfo"
)

func secret(id string, ttl time.Duration, now time.Time, usages ...string) *corev1.Secret {
	i := bootstraptoken.New(bootstraptoken.Token{ID: id, Secret: "0123456789abcdef"}, ttl, now, "")
	i.Usages = usages
	return i.AsSecret()
}

func TestSignatures(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const kc = "apiVersion: v1\nkind: Config\n"
	sig := func(id string) string {
		return clusterinfo.Sign([]byte(kc), bootstraptoken.Token{ID: id, Secret: "0123456789abcdef"})
	}
	broken := secret("broken", time.Hour, now, bootstraptoken.UsageSigning)
	broken.Data[bootstraptoken.KeyTokenSecret] = []byte("short")
	tests := []struct {
		name       string
		kubeconfig string
		secrets    []*corev1.Secret
		want       map[string]string
		next       time.Time
	}{
		{"signing token", kc, []*corev1.Secret{secret("aaaaaa", time.Hour, now, bootstraptoken.UsageSigning)},
			map[string]string{"jws-kubeconfig-aaaaaa": sig("aaaaaa")}, now.Add(time.Hour)},
		{"never expires", kc, []*corev1.Secret{secret("aaaaaa", -1, now, bootstraptoken.UsageSigning, bootstraptoken.UsageAuthentication)},
			map[string]string{"jws-kubeconfig-aaaaaa": sig("aaaaaa")}, time.Time{}},
		{"authentication only", kc, []*corev1.Secret{secret("aaaaaa", time.Hour, now, bootstraptoken.UsageAuthentication)}, map[string]string{}, time.Time{}},
		{"expired", kc, []*corev1.Secret{secret("aaaaaa", time.Hour, now.Add(-2*time.Hour), bootstraptoken.UsageSigning)}, map[string]string{}, time.Time{}},
		{"malformed secret", kc, []*corev1.Secret{broken}, map[string]string{}, time.Time{}},
		{"no kubeconfig", "", []*corev1.Secret{secret("aaaaaa", time.Hour, now, bootstraptoken.UsageSigning)}, map[string]string{}, time.Time{}},
		{"earliest expiry", kc, []*corev1.Secret{secret("aaaaaa", 3*time.Hour, now, bootstraptoken.UsageSigning), secret("bbbbbb", time.Hour, now, bootstraptoken.UsageSigning)},
			map[string]string{"jws-kubeconfig-aaaaaa": sig("aaaaaa"), "jws-kubeconfig-bbbbbb": sig("bbbbbb")}, now.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next := Signatures(tt.kubeconfig, tt.secrets, now)
			if !maps.Equal(got, tt.want) || !next.Equal(tt.next) {
				t.Fatalf("Signatures = %v, %v; want %v, %v", got, next, tt.want, tt.next)
			}
		})
	}
}

func TestApply(t *testing.T) {
	data := map[string]string{"kubeconfig": "k", "jws-kubeconfig-old": "x", "other": "y"}
	got := Apply(data, map[string]string{"jws-kubeconfig-new": "z"})
	want := map[string]string{"kubeconfig": "k", "other": "y", "jws-kubeconfig-new": "z"}
	if !maps.Equal(got, want) {
		t.Fatalf("Apply = %v, want %v", got, want)
	}
	if len(data) != 3 {
		t.Fatalf("Apply changed its input: %v", data)
	}
}
