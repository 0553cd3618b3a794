package deploy

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/pem"
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// rendered is the chart's objects by kind and name.
type rendered struct {
	secrets     map[string]map[string][]byte
	deployments map[string]*appsv1.Deployment
	daemonSets  map[string]*appsv1.DaemonSet
}

func renderObjects(t *testing.T, set ...string) *rendered {
	t.Helper()
	args := []string{"template", "tugboat", chartDir}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := exec.Command(helm(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	r := &rendered{secrets: map[string]map[string][]byte{}, deployments: map[string]*appsv1.Deployment{}, daemonSets: map[string]*appsv1.DaemonSet{}}
	for _, doc := range strings.Split(string(out), "\n---") {
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "Secret":
			var s corev1.Secret
			if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			r.secrets[s.Name] = s.Data
		case "Deployment":
			var d appsv1.Deployment
			if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			r.deployments[d.Name] = &d
		case "DaemonSet":
			var d appsv1.DaemonSet
			if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			r.daemonSets[d.Name] = &d
		}
	}
	return r
}

func (r *rendered) secret(t *testing.T, name string) map[string][]byte {
	t.Helper()
	s, ok := r.secrets[name]
	if !ok {
		t.Fatalf("the chart renders no Secret %s", name)
	}
	return s
}

func parseCert(t *testing.T, what string, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s is not a PEM certificate", what)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return c
}

// kubeconfigFile is the part of a kubeconfig the checks read.
type kubeconfigFile struct {
	Clusters []struct {
		Cluster struct {
			Server string `json:"server"`
			CAData []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		User struct {
			CertData []byte `json:"client-certificate-data"`
			KeyData  []byte `json:"client-key-data"`
			Token    string `json:"token"`
		} `json:"user"`
	} `json:"users"`
}

func parseKubeconfig(t *testing.T, what string, data []byte) kubeconfigFile {
	t.Helper()
	var k kubeconfigFile
	if err := yaml.UnmarshalStrict(data, &k); err != nil && yaml.Unmarshal(data, &k) != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(k.Clusters) != 1 || len(k.Users) != 1 {
		t.Fatalf("%s: %d clusters, %d users, want one each", what, len(k.Clusters), len(k.Users))
	}
	return k
}

// TestChartPKI: the chart's CA signs the apiserver's serving certificate
// (its Service's names, Tugboat's kubernetes names, loopback, extra SANs)
// and each component's client certificate with the CN the default
// bindings bind; each kubeconfig trusts that CA and holds a key that
// matches its certificate; the static tokens put the kubelets' bootstrap
// token in system:bootstrappers and the admin's in system:masters.
func TestChartPKI(t *testing.T) {
	r := renderObjects(t, "apiserver.certSANs={tugboat.example.com,192.0.2.10}")
	pki := r.secret(t, "tugboat-pki")
	ca := parseCert(t, "ca.crt", pki["ca.crt"])
	if !ca.IsCA {
		t.Fatal("ca.crt is not a CA")
	}
	if _, err := tls.X509KeyPair(pki["ca.crt"], pki["ca.key"]); err != nil {
		t.Fatalf("ca.key does not match ca.crt: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	api := parseCert(t, "apiserver.crt", pki["apiserver.crt"])
	if _, err := tls.X509KeyPair(pki["apiserver.crt"], pki["apiserver.key"]); err != nil {
		t.Fatalf("apiserver.key: %v", err)
	}
	for _, name := range []string{"tugboat-apiserver.default.svc", "tugboat-apiserver", "kubernetes.default.svc.cluster.local", "localhost", "tugboat.example.com", "127.0.0.1", "10.96.0.1", "192.0.2.10"} {
		if _, err := api.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("the serving certificate does not serve %s: %v", name, err)
		}
	}
	if _, err := api.Verify(x509.VerifyOptions{Roots: roots, DNSName: "tugboat-apiserver.other.svc"}); err == nil {
		t.Error("the serving certificate serves another namespace's name")
	}
	if key, err := parseECKey(pki["sa.key"]); err != nil || key == nil {
		t.Errorf("sa.key: %v", err)
	}

	clientCN := func(what string, certPEM, keyPEM []byte) string {
		t.Helper()
		c := parseCert(t, what, certPEM)
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			t.Errorf("%s: the key does not match: %v", what, err)
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s is not a client certificate of the CA: %v", what, err)
		}
		return c.Subject.CommonName
	}
	if cn := clientCN("apiserver-kubelet-client.crt", pki["apiserver-kubelet-client.crt"], pki["apiserver-kubelet-client.key"]); cn != "kube-apiserver-kubelet-client" {
		t.Errorf("apiserver-kubelet-client.crt is for %q", cn)
	}
	for component, user := range map[string]string{"scheduler": "system:kube-scheduler", "controller-manager": "system:kube-controller-manager", "proxy": "system:kube-proxy", "dns": "system:kube-dns"} {
		t.Run(component, func(t *testing.T) {
			k := parseKubeconfig(t, component, r.secret(t, "tugboat-"+component+"-kubeconfig")["kubeconfig"])
			if got := k.Clusters[0].Cluster.Server; got != "https://tugboat-apiserver.default.svc:6443" {
				t.Errorf("server %q", got)
			}
			if string(k.Clusters[0].Cluster.CAData) != string(pki["ca.crt"]) {
				t.Error("the kubeconfig does not trust the release's CA")
			}
			if cn := clientCN(component, k.Users[0].User.CertData, k.Users[0].User.KeyData); cn != user {
				t.Errorf("client certificate for %q, want %q", cn, user)
			}
		})
	}

	tokens := map[string][]string{} // token -> user, groups
	rows, err := csv.NewReader(strings.NewReader(string(pki["tokens.csv"]))).ReadAll()
	if err != nil {
		t.Fatalf("tokens.csv: %v", err)
	}
	for _, row := range rows {
		if len(row) != 4 {
			t.Fatalf("tokens.csv row %q: want token,user,uid,groups", row)
		}
		tokens[row[0]] = []string{row[1], row[3]}
	}
	boot := parseKubeconfig(t, "kubelet bootstrap", r.secret(t, "tugboat-kubelet-bootstrap")["kubeconfig"])
	if got := tokens[boot.Users[0].User.Token]; len(got) != 2 || got[1] != "system:bootstrappers" || len(boot.Users[0].User.CertData) != 0 {
		t.Errorf("the kubelets' bootstrap token authenticates as %q, want group system:bootstrappers and nothing else", got)
	}
	if string(boot.Clusters[0].Cluster.CAData) != string(pki["ca.crt"]) {
		t.Error("the bootstrap kubeconfig does not trust the release's CA")
	}
	admin := parseKubeconfig(t, "admin", r.secret(t, "tugboat-admin-kubeconfig")["admin.conf"])
	if got := tokens[admin.Users[0].User.Token]; len(got) != 2 || got[1] != "system:masters" || admin.Clusters[0].Cluster.Server != "https://127.0.0.1:6443" {
		t.Errorf("the admin kubeconfig (server %s) authenticates as %q", admin.Clusters[0].Cluster.Server, got)
	}
	if string(admin.Clusters[0].Cluster.CAData) != string(pki["ca.crt"]) {
		t.Error("the admin kubeconfig does not trust the release's CA")
	}
	if len(boot.Users[0].User.Token) < 32 || boot.Users[0].User.Token == admin.Users[0].User.Token {
		t.Error("the static tokens are short or shared")
	}
}

func parseECKey(data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, x509.IncorrectPasswordError
	}
	return x509.ParseECPrivateKey(b.Bytes)
}

// mountedFile says which volume of the pod provides path, and that
// volume's Secret and key: the file a flag names must exist.
func mountedFile(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) (secret, key string) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rest, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o007 != 0 {
				t.Errorf("volume %s: mode %v lets others read it", v.Name, v.Secret.DefaultMode)
			}
			if len(v.Secret.Items) == 0 {
				return v.Secret.SecretName, rest
			}
			for _, it := range v.Secret.Items {
				if it.Path == rest {
					return v.Secret.SecretName, it.Key
				}
			}
		}
	}
	t.Errorf("container %s: nothing mounted provides %s", c.Name, path)
	return "", ""
}

// flagValue returns --name=value of args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestChartWiresTLS: every file a component's TLS flag names comes from
// the right Secret and key; the apiserver's probes speak HTTPS; the
// kubelets bootstrap with the bootstrap kubeconfig; no component mounts
// another's credentials.
func TestChartWiresTLS(t *testing.T) {
	r := renderObjects(t)
	type want struct{ flag, secret, key string }
	pods := map[string]struct {
		spec  corev1.PodSpec
		wants []want
	}{
		"apiserver": {r.deployments["tugboat-apiserver"].Spec.Template.Spec, []want{
			{"tls-cert-file", "tugboat-pki", "apiserver.crt"}, {"tls-private-key-file", "tugboat-pki", "apiserver.key"},
			{"client-ca-file", "tugboat-pki", "ca.crt"}, {"token-auth-file", "tugboat-pki", "tokens.csv"},
			{"service-account-key-file", "tugboat-pki", "sa.key"},
			{"kubelet-client-certificate", "tugboat-pki", "apiserver-kubelet-client.crt"}, {"kubelet-client-key", "tugboat-pki", "apiserver-kubelet-client.key"},
		}},
		"controller-manager": {r.deployments["tugboat-controller-manager"].Spec.Template.Spec, []want{
			{"kubeconfig", "tugboat-controller-manager-kubeconfig", "kubeconfig"},
			{"cluster-signing-cert-file", "tugboat-pki", "ca.crt"}, {"cluster-signing-key-file", "tugboat-pki", "ca.key"},
		}},
		"scheduler": {r.deployments["tugboat-scheduler"].Spec.Template.Spec, []want{{"kubeconfig", "tugboat-scheduler-kubeconfig", "kubeconfig"}}},
		"dns":       {r.deployments["tugboat-dns"].Spec.Template.Spec, []want{{"kubeconfig", "tugboat-dns-kubeconfig", "kubeconfig"}}},
		"proxy":     {r.daemonSets["tugboat-proxy"].Spec.Template.Spec, []want{{"kubeconfig", "tugboat-proxy-kubeconfig", "kubeconfig"}}},
		"kubelet":   {r.daemonSets["tugboat-kubelet"].Spec.Template.Spec, []want{{"bootstrap-kubeconfig", "tugboat-kubelet-bootstrap", "kubeconfig"}}},
	}
	for name, p := range pods {
		t.Run(name, func(t *testing.T) {
			if len(p.spec.Containers) != 1 {
				t.Fatalf("%d containers", len(p.spec.Containers))
			}
			c := p.spec.Containers[0]
			for _, w := range p.wants {
				path, ok := flagValue(c.Args, w.flag)
				if !ok {
					t.Errorf("no --%s", w.flag)
					continue
				}
				if secret, key := mountedFile(t, p.spec, c, path); secret != w.secret || key != w.key {
					t.Errorf("--%s=%s is %s/%s, want %s/%s", w.flag, path, secret, key, w.secret, w.key)
				}
			}
			// Only the apiserver and the controller-manager see the PKI,
			// and the controller-manager only the CA.
			for _, v := range p.spec.Volumes {
				if v.Secret == nil || v.Secret.SecretName != "tugboat-pki" {
					continue
				}
				var keys []string
				for _, it := range v.Secret.Items {
					keys = append(keys, it.Key)
				}
				if len(keys) == 0 || name != "apiserver" && !slices.Equal(keys, []string{"ca.crt", "ca.key"}) || slices.ContainsFunc(keys, func(k string) bool {
					return strings.HasPrefix(k, "scheduler") || strings.HasPrefix(k, "proxy") || strings.HasPrefix(k, "dns") || k == "admin-token"
				}) {
					t.Errorf("mounts %v of the PKI", keys)
				}
			}
		})
	}
	kubelet := r.daemonSets["tugboat-kubelet"].Spec.Template.Spec.Containers[0]
	if kc, _ := flagValue(kubelet.Args, "kubeconfig"); kc != "/var/lib/tugboat/kubelet/kubelet.conf" {
		t.Errorf("the kubelet keeps its own kubeconfig at %q, want it under its root dir on the node", kc)
	}
	api := r.deployments["tugboat-apiserver"].Spec.Template.Spec.Containers[0]
	for _, p := range []*corev1.Probe{api.ReadinessProbe, api.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("apiserver probe %+v is not HTTPS", p)
		}
	}
	if _, insecure := flagValue(api.Args, "insecure"); insecure || slices.Contains(api.Args, "--insecure") {
		t.Error("the apiserver runs --insecure")
	}
}
