package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const multiContext = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster:
    server: http://127.0.0.1:6443
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority: pki/ca.crt
    tls-server-name: apiserver
users:
- name: admin
  user:
    client-certificate-data: %CERT%
    client-key-data: %KEY%
- name: ops
  user:
    client-certificate: pki/ops.crt
    client-key: /ABS/pki/ops.key
    tokenFile: token
- name: bot
  user:
    token: inline-token
    tokenFile: token
contexts:
- name: dev
  context: {cluster: local, user: admin}
- name: prod
  context: {cluster: prod, user: ops, namespace: kube-system}
- name: bot
  context: {cluster: local, user: bot, namespace: apps}
- name: nouser
  context: {cluster: local}
- name: broken-cluster
  context: {cluster: nowhere, user: admin}
- name: broken-user
  context: {cluster: local, user: nobody}
`

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pki/ca.crt", "CA")
	writeFile(t, dir, "pki/ops.crt", "OPS-CERT")
	writeFile(t, dir, "pki/ops.key", "OPS-KEY")
	writeFile(t, dir, "token", "file-token\n")
	b64 := base64.StdEncoding.EncodeToString
	content := strings.NewReplacer("%CERT%", b64([]byte("ADMIN-CERT")), "%KEY%", b64([]byte("ADMIN-KEY")), "/ABS", dir).Replace(multiContext)
	path := writeFile(t, dir, "config", content)

	tests := []struct {
		context string
		want    Config
		wantErr string
	}{
		{context: "", want: Config{Server: "http://127.0.0.1:6443", CertData: []byte("ADMIN-CERT"), KeyData: []byte("ADMIN-KEY"), Namespace: "default", ContextName: "dev"}},
		{context: "prod", want: Config{Server: "https://prod.example:6443", TLSServerName: "apiserver", CAData: []byte("CA"), CertData: []byte("OPS-CERT"), KeyData: []byte("OPS-KEY"), Token: "file-token", Namespace: "kube-system", ContextName: "prod"}},
		{context: "bot", want: Config{Server: "http://127.0.0.1:6443", Token: "inline-token", Namespace: "apps", ContextName: "bot"}},
		{context: "nouser", want: Config{Server: "http://127.0.0.1:6443", Namespace: "default", ContextName: "nouser"}},
		{context: "missing", wantErr: `context "missing" not found`},
		{context: "broken-cluster", wantErr: `cluster "nowhere", which is not defined`},
		{context: "broken-user", wantErr: `user "nobody", which is not defined`},
	}
	for _, tt := range tests {
		t.Run("context "+tt.context, func(t *testing.T) {
			got, err := Load(path, tt.context)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Load error = %v, want one naming %s and %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, &tt.want) {
				t.Fatalf("Load = %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}

func equal(a, b *Config) bool {
	return a.Server == b.Server && a.TLSServerName == b.TLSServerName && bytes.Equal(a.CAData, b.CAData) &&
		bytes.Equal(a.CertData, b.CertData) && bytes.Equal(a.KeyData, b.KeyData) && a.Token == b.Token &&
		a.InsecureSkipTLSVerify == b.InsecureSkipTLSVerify && a.Namespace == b.Namespace && a.ContextName == b.ContextName
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, wantErr string
	}{
		{"no current context", "clusters: []\n", "current-context is not set"},
		{"no server", "current-context: c\nclusters: [{name: x, cluster: {}}]\ncontexts: [{name: c, context: {cluster: x}}]\n", `cluster "x" has no server`},
		{"missing CA file", "current-context: c\nclusters: [{name: x, cluster: {server: 'https://h', certificate-authority: nope.crt}}]\ncontexts: [{name: c, context: {cluster: x}}]\n", `cluster "x" certificate-authority`},
		{"cert without key", "current-context: c\nclusters: [{name: x, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {client-certificate-data: QQ==}}]\ncontexts: [{name: c, context: {cluster: x, user: u}}]\n", "without a key"},
		{"not yaml", "clusters: [", "kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "-"), tt.content)
			_, err := Load(path, "")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load error = %v, want one naming %s and %q", err, path, tt.wantErr)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "absent"), ""); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Fatalf("Load of a missing file = %v, want an error naming it", err)
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	second := writeFile(t, dir, "second", "")
	third := writeFile(t, dir, "third", "")
	home := t.TempDir()
	homeConfig := writeFile(t, home, ".kube/config", "")
	t.Setenv("HOME", home)

	tests := []struct {
		name, path, env, want, wantErr string
	}{
		{name: "explicit path wins", path: "/x/y", env: second, want: "/x/y"},
		{name: "first existing of KUBECONFIG", env: strings.Join([]string{filepath.Join(dir, "first"), second, third}, string(os.PathListSeparator)), want: second},
		{name: "none of KUBECONFIG exists", env: filepath.Join(dir, "nope"), wantErr: "none of $KUBECONFIG"},
		{name: "home default", want: homeConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.env)
			got, err := Locate(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Locate error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Locate = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "admin.conf")
	spec := KubeconfigSpec{
		Server: "https://127.0.0.1:6443", Namespace: "apps",
		CAData: []byte("CA"), CertData: []byte("CERT"), KeyData: []byte("KEY"), Token: "tok",
	}
	if err := Write(path, spec); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Fatalf("kubeconfig mode = %o, want 600", perm)
	}
	got, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Server: spec.Server, CAData: spec.CAData, CertData: spec.CertData, KeyData: spec.KeyData, Token: "tok", Namespace: "apps", ContextName: "tugboat"}
	if !equal(got, &want) {
		t.Fatalf("round trip = %+v, want %+v", got, want)
	}
	// A second write replaces the file and keeps it private.
	if err := Write(path, KubeconfigSpec{Server: "http://127.0.0.1:1", ContextName: "other"}); err != nil {
		t.Fatal(err)
	}
	got, err = Load(path, "other")
	if err != nil || got.Server != "http://127.0.0.1:1" || got.Namespace != "default" || got.Token != "" {
		t.Fatalf("after rewrite Load = %+v, %v", got, err)
	}
	if err := Write(path, KubeconfigSpec{}); err == nil {
		t.Fatal("Write without a server succeeded")
	}
}
