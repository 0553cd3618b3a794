package deploy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// fakeKube is as much of a Kubernetes apiserver as helm's lookup needs:
// discovery of the chart's kinds and GET of Secrets it holds; anything
// else is a 404.
type fakeKube struct {
	mu      sync.Mutex
	secrets map[string]*corev1.Secret // namespace/name
	lookups []string
}

func (f *fakeKube) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	resource := func(name, kind string, namespaced bool) metav1.APIResource {
		return metav1.APIResource{Name: name, Kind: kind, Namespaced: namespaced, Verbs: metav1.Verbs{"get", "list", "create", "update", "delete"}}
	}
	switch p := r.URL.Path; {
	case p == "/version":
		reply(map[string]string{"major": "1", "minor": "34", "gitVersion": "v1.34.0"})
	case p == "/api":
		reply(metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}}})
	case p == "/apis":
		apps := metav1.GroupVersionForDiscovery{GroupVersion: "apps/v1", Version: "v1"}
		reply(metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: []metav1.APIGroup{{Name: "apps", Versions: []metav1.GroupVersionForDiscovery{apps}, PreferredVersion: apps}}})
	case p == "/api/v1":
		reply(metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "v1", APIResources: []metav1.APIResource{
			resource("secrets", "Secret", true), resource("configmaps", "ConfigMap", true), resource("services", "Service", true),
			resource("persistentvolumeclaims", "PersistentVolumeClaim", true), resource("namespaces", "Namespace", false)}})
	case p == "/apis/apps/v1":
		reply(metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			resource("deployments", "Deployment", true), resource("daemonsets", "DaemonSet", true)}})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/api/v1/namespaces/") && strings.Contains(p, "/secrets/"):
		parts := strings.Split(strings.TrimPrefix(p, "/api/v1/namespaces/"), "/") // ns, "secrets", name
		f.mu.Lock()
		f.lookups = append(f.lookups, parts[0]+"/"+parts[2])
		s, ok := f.secrets[parts[0]+"/"+parts[2]]
		f.mu.Unlock()
		if ok {
			reply(s)
			return
		}
		fallthrough
	default:
		w.WriteHeader(http.StatusNotFound)
		reply(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound, Message: "not found"})
	}
}

func (f *fakeKube) lookedUp() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.lookups)
}

// TestChartKeepsPKIOnUpgrade: rendered against a cluster that holds the
// release's PKI Secret (helm template --dry-run=server, as helm upgrade
// renders), the chart looks it up and keeps every certificate, key and
// token; only a change of the apiserver's names issues its serving
// certificate again, from the same CA.
func TestChartKeepsPKIOnUpgrade(t *testing.T) {
	first := renderObjects(t).secret(t, "tugboat-pki")
	upgrade, kube := upgrader(t, first)
	again := upgrade()["tugboat-pki"]
	if kube.lookedUp() == 0 {
		t.Fatal("helm did not look the PKI Secret up")
	}
	for k, v := range first {
		if string(again[k]) != string(v) {
			t.Errorf("%s changed on upgrade", k)
		}
	}
	moved := upgrade("apiserver.certSANs={tugboat.example.com}")["tugboat-pki"]
	for k, v := range first {
		if k == "apiserver.notAfter" {
			continue // the new one's may fall in the same second
		}
		same := string(moved[k]) == string(v)
		if changes := k == "apiserver.crt" || k == "apiserver.key" || k == "apiserver.sans"; same == changes {
			t.Errorf("%s: unchanged=%v after a new SAN", k, same)
		}
	}
	if !strings.Contains(string(moved["apiserver.sans"]), "tugboat.example.com") {
		t.Errorf("apiserver.sans %q lacks the new name", moved["apiserver.sans"])
	}
	ca := parseCert(t, "ca.crt", first["ca.crt"])
	if err := parseCert(t, "apiserver.crt", moved["apiserver.crt"]).CheckSignatureFrom(ca); err != nil {
		t.Errorf("the re-issued serving certificate is not the kept CA's: %v", err)
	}
}

// TestChartRenewsCertificatesOnUpgrade: the CA lives ten years and its
// notAfter is recorded; each leaf's recorded notAfter is its
// certificate's; on an upgrade a leaf within 30 days of its expiry, or
// with no notAfter recorded, is issued again (a new key, the kept CA)
// and every other certificate is kept.
func TestChartRenewsCertificatesOnUpgrade(t *testing.T) {
	first := renderObjects(t).secret(t, "tugboat-pki")
	ca := parseCert(t, "ca.crt", first["ca.crt"])
	if years := time.Until(ca.NotAfter).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("the CA is valid for %.1f years, want 10", years)
	}
	for _, name := range []string{"ca", "apiserver", "apiserver-kubelet-client", "scheduler", "controller-manager", "proxy", "dns"} {
		cert := parseCert(t, name+".crt", first[name+".crt"])
		recorded, err := time.Parse(time.RFC3339, string(first[name+".notAfter"]))
		if err != nil {
			t.Errorf("%s.notAfter %q: %v", name, first[name+".notAfter"], err)
			continue
		}
		if d := recorded.Sub(cert.NotAfter); d < -time.Minute || d > time.Minute {
			t.Errorf("%s.notAfter %s, the certificate's %s", name, recorded, cert.NotAfter)
		}
	}
	old := map[string][]byte{}
	for k, v := range first {
		old[k] = v
	}
	old["scheduler.notAfter"] = []byte(time.Now().Add(10 * 24 * time.Hour).UTC().Format(time.RFC3339))
	delete(old, "dns.notAfter") // as a release installed before notAfter was recorded
	old["proxy.notAfter"] = []byte(time.Now().Add(40 * 24 * time.Hour).UTC().Format(time.RFC3339))
	upgrade, _ := upgrader(t, old)
	got := upgrade()["tugboat-pki"]
	for k, v := range old {
		renewed := strings.HasPrefix(k, "scheduler.") || strings.HasPrefix(k, "dns.")
		if same := string(got[k]) == string(v); same == renewed {
			t.Errorf("%s: kept=%v, want renewed=%v", k, same, renewed)
		}
	}
	for _, name := range []string{"scheduler", "dns"} {
		cert := parseCert(t, name+".crt", got[name+".crt"])
		if err := cert.CheckSignatureFrom(ca); err != nil {
			t.Errorf("the renewed %s certificate is not the kept CA's: %v", name, err)
		}
		if time.Until(cert.NotAfter) < 364*24*time.Hour {
			t.Errorf("the renewed %s certificate expires %s", name, cert.NotAfter)
		}
		if string(got[name+".notAfter"]) == "" {
			t.Errorf("no %s.notAfter recorded for the renewed certificate", name)
		}
	}
}

// TestChartRotatesBootstrapToken: the kubelets' bootstrap token is kept
// on upgrade until pki.bootstrapToken sets a new one, which replaces it
// in the apiserver's token file and the kubelets' bootstrap kubeconfig.
func TestChartRotatesBootstrapToken(t *testing.T) {
	first := renderObjects(t).secret(t, "tugboat-pki")
	upgrade, _ := upgrader(t, first)
	if kept := upgrade()["tugboat-pki"]; string(kept["bootstrap-token"]) != string(first["bootstrap-token"]) {
		t.Fatal("the bootstrap token changed on a plain upgrade")
	}
	const token = "rotated0123456789abcdef"
	secrets := upgrade("pki.bootstrapToken=" + token)
	pki := secrets["tugboat-pki"]
	if string(pki["bootstrap-token"]) != token {
		t.Errorf("bootstrap-token %q, want %q", pki["bootstrap-token"], token)
	}
	if tokens := string(pki["tokens.csv"]); !strings.Contains(tokens, token+",kubelet-bootstrap,") || strings.Contains(tokens, string(first["bootstrap-token"])) {
		t.Errorf("tokens.csv after rotation: %q", tokens)
	}
	boot := parseKubeconfig(t, "kubelet bootstrap", secrets["tugboat-kubelet-bootstrap"]["kubeconfig"])
	if boot.Users[0].User.Token != token {
		t.Errorf("the bootstrap kubeconfig's token %q, want the rotated one", boot.Users[0].User.Token)
	}
	if string(pki["admin-token"]) != string(first["admin-token"]) || string(pki["ca.crt"]) != string(first["ca.crt"]) {
		t.Error("rotating the bootstrap token changed the admin token or the CA")
	}
}

// upgrader renders the chart as helm upgrade does (helm template
// --dry-run=server) against a fake cluster holding data as the release's
// PKI Secret, and returns the rendered Secrets by name.
func upgrader(t *testing.T, data map[string][]byte) (func(set ...string) map[string]map[string][]byte, *fakeKube) {
	kube := &fakeKube{secrets: map[string]*corev1.Secret{"default/tugboat-pki": {
		TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "tugboat-pki", Namespace: "default"},
		Data:       data,
	}}}
	srv := httptest.NewServer(kube) // 127.0.0.1
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: `+srv.URL+`}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: default}}]
current-context: fake
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(set ...string) map[string]map[string][]byte {
		t.Helper()
		args := []string{"template", "tugboat", chartDir, "--dry-run=server", "--kubeconfig", kubeconfig, "--namespace", "default"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		cmd := exec.Command(helm(t), args...)
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm template --dry-run=server: %v\n%s", err, out)
		}
		return secretsOf(t, string(out))
	}, kube
}

// secretsOf decodes the Secrets of rendered manifests.
func secretsOf(t *testing.T, manifests string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, doc := range strings.Split(manifests, "\n---") {
		if !strings.Contains(doc, "\nkind: Secret") {
			continue
		}
		var s corev1.Secret
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			t.Fatal(err)
		}
		out[s.Name] = s.Data
	}
	return out
}
