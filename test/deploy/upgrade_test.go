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
	kube := &fakeKube{secrets: map[string]*corev1.Secret{"default/tugboat-pki": {
		TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "tugboat-pki", Namespace: "default"},
		Data:       first,
	}}}
	srv := httptest.NewServer(kube) // 127.0.0.1
	defer srv.Close()
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
	upgrade := func(set ...string) map[string][]byte {
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
		return secretsOf(t, string(out))["tugboat-pki"]
	}

	again := upgrade()
	if kube.lookedUp() == 0 {
		t.Fatal("helm did not look the PKI Secret up")
	}
	for k, v := range first {
		if string(again[k]) != string(v) {
			t.Errorf("%s changed on upgrade", k)
		}
	}
	moved := upgrade("apiserver.certSANs={tugboat.example.com}")
	for k, v := range first {
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
