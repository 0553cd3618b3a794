package validation

import (
	"strings"
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
)

func TestSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret *corev1.Secret
		want   []fe
	}{
		{"valid opaque", &corev1.Secret{Metadata: objectMeta("creds"), Data: map[string][]byte{"user.name": []byte("admin")}, StringData: map[string]string{"pass_word": "x"}}, nil},
		{"valid untyped", &corev1.Secret{Metadata: objectMeta("creds")}, nil},
		{"valid tls", &corev1.Secret{Metadata: objectMeta("tls"), Type: "kubernetes.io/tls",
			Data: map[string][]byte{"tls.crt": []byte("c")}, StringData: map[string]string{"tls.key": "k"}}, nil},
		{"bad keys", &corev1.Secret{Metadata: objectMeta("creds"), Data: map[string][]byte{"a/b": nil}, StringData: map[string]string{"..": ""}},
			[]fe{{"data[a/b]", Invalid}, {"stringData[..]", Invalid}}},
		{"too big", &corev1.Secret{Metadata: objectMeta("creds"), Data: map[string][]byte{"a": make([]byte, 1<<20)}, StringData: map[string]string{"b": "x"}},
			[]fe{{"data", TooLong}}},
		{"tls without key", &corev1.Secret{Metadata: objectMeta("tls"), Type: "kubernetes.io/tls", Data: map[string][]byte{"tls.crt": []byte("c")}},
			[]fe{{"data[tls.key]", Required}}},
		{"docker config", &corev1.Secret{Metadata: objectMeta("reg"), Type: "kubernetes.io/dockerconfigjson"},
			[]fe{{"data[.dockerconfigjson]", Required}}},
		{"docker config not JSON", &corev1.Secret{Metadata: objectMeta("reg"), Type: "kubernetes.io/dockerconfigjson", Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			[]fe{{"data[.dockerconfigjson]", Invalid}}},
		{"basic auth", &corev1.Secret{Metadata: objectMeta("auth"), Type: "kubernetes.io/basic-auth"},
			[]fe{{"data[username]", Required}}},
		{"service account token without its account", &corev1.Secret{Metadata: objectMeta("tok"), Type: "kubernetes.io/service-account-token"},
			[]fe{{"metadata.annotations[kubernetes.io/service-account.name]", Required}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.secret), tt.want...) })
	}
}

func TestConfigMap(t *testing.T) {
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want []fe
	}{
		{"valid", &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"app.properties": "a=b"}, BinaryData: map[string][]byte{"logo.png": {1}}}, nil},
		{"bad key", &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"a b": ""}, BinaryData: map[string][]byte{"c/d": nil}},
			[]fe{{"data[a b]", Invalid}, {"binaryData[c/d]", Invalid}}},
		{"key in both", &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"k": ""}, BinaryData: map[string][]byte{"k": nil}},
			[]fe{{"data[k]", Invalid}}},
		{"too big", &corev1.ConfigMap{Metadata: objectMeta("conf"), Data: map[string]string{"k": strings.Repeat("x", 1<<20)}, BinaryData: map[string][]byte{"b": {1}}},
			[]fe{{"data", TooLong}}},
		{"bad name", &corev1.ConfigMap{Metadata: objectMeta("Conf")}, []fe{{"metadata.name", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.cm), tt.want...) })
	}
}

func TestServiceAccount(t *testing.T) {
	tests := []struct {
		name string
		sa   *corev1.ServiceAccount
		want []fe
	}{
		{"valid", &corev1.ServiceAccount{Metadata: objectMeta("builder")}, nil},
		{"bad name", &corev1.ServiceAccount{Metadata: objectMeta("Bad_Name")}, []fe{{"metadata.name", Invalid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, Validate(tt.sa), tt.want...) })
	}
}

func TestTokenRequest(t *testing.T) {
	secs := func(n int32) *int32 { return &n }
	tests := []struct {
		name string
		tr   *corev1.TokenRequest
		want []fe
	}{
		{"empty", &corev1.TokenRequest{}, nil},
		{"valid", &corev1.TokenRequest{Spec: &corev1.TokenRequestSpec{Audiences: []string{"api"}, ExpirationSeconds: secs(600)}}, nil},
		{"too short", &corev1.TokenRequest{Spec: &corev1.TokenRequestSpec{ExpirationSeconds: secs(599)}}, []fe{{"spec.expirationSeconds", Invalid}}},
		{"empty audience", &corev1.TokenRequest{Spec: &corev1.TokenRequestSpec{Audiences: []string{"a", ""}}}, []fe{{"spec.audiences[1]", Required}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertErrors(t, ValidateTokenRequest(tt.tr), tt.want...) })
	}
}
