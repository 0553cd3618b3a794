package validation

import (
	"encoding/json"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
	"google.golang.org/protobuf/proto"
)

// maxDataSize is the most bytes the values of one Secret or ConfigMap may hold.
const maxDataSize = 1 << 20

// requiredSecretKeys are the keys each well-known secret type must carry.
var requiredSecretKeys = map[string][]string{
	"kubernetes.io/tls":              {"tls.crt", "tls.key"},
	"kubernetes.io/dockerconfigjson": {".dockerconfigjson"},
	"kubernetes.io/dockercfg":        {".dockercfg"},
	"kubernetes.io/ssh-auth":         {"ssh-privatekey"},
}

func validateSecret(s *corev1.Secret) List {
	errs := validateMeta(s.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	size := 0
	has := map[string][]byte{}
	var kBuf [16]string
	for _, k := range sortedKeys(kBuf[:0], s.GetData()) {
		errs = append(errs, check(path("data").key(k), k, names.ConfigMapKey(k))...)
		size += len(s.GetData()[k])
		has[k] = s.GetData()[k]
	}
	for _, k := range sortedKeys(kBuf[:0], s.GetStringData()) {
		errs = append(errs, check(path("stringData").key(k), k, names.ConfigMapKey(k))...)
		size += len(s.GetStringData()[k])
		has[k] = []byte(s.GetStringData()[k])
	}
	if size > maxDataSize {
		errs = append(errs, tooLong("data", maxDataSize))
	}
	typ := s.GetType()
	for _, k := range requiredSecretKeys[typ] {
		if _, ok := has[k]; !ok {
			errs = append(errs, required(path("data").key(k), ""))
		}
	}
	if typ == "kubernetes.io/service-account-token" && s.GetMetadata().GetAnnotations()["kubernetes.io/service-account.name"] == "" {
		errs = append(errs, required(path("metadata").child("annotations").key("kubernetes.io/service-account.name"), "a service account token names its service account"))
	}
	if typ == "kubernetes.io/basic-auth" && has["username"] == nil && has["password"] == nil {
		errs = append(errs, required(path("data").key("username"), "must specify `username` or `password`"))
	}
	if v, ok := has[".dockerconfigjson"]; ok && typ == "kubernetes.io/dockerconfigjson" && !json.Valid(v) {
		errs = append(errs, invalid(path("data").key(".dockerconfigjson"), "<secret contents redacted>", "must be valid JSON"))
	}
	return errs
}

func validateConfigMap(c *corev1.ConfigMap) List {
	errs := validateMeta(c.GetMetadata(), metaOpts{namespaced: true, name: names.Subdomain})
	size := 0
	var kBuf [16]string
	for _, k := range sortedKeys(kBuf[:0], c.GetData()) {
		p := path("data").key(k)
		errs = append(errs, check(p, k, names.ConfigMapKey(k))...)
		if _, dup := c.GetBinaryData()[k]; dup {
			errs = append(errs, invalid(p, k, "duplicate of key present in binaryData"))
		}
		size += len(c.GetData()[k])
	}
	for _, k := range sortedKeys(kBuf[:0], c.GetBinaryData()) {
		errs = append(errs, check(path("binaryData").key(k), k, names.ConfigMapKey(k))...)
		size += len(c.GetBinaryData()[k])
	}
	if size > maxDataSize {
		errs = append(errs, tooLong("data", maxDataSize))
	}
	return errs
}

func secretUpdate(n, o *corev1.Secret) List {
	var errs List
	if defaultString(n.GetType(), "Opaque") != defaultString(o.GetType(), "Opaque") {
		errs = append(errs, invalid("type", n.GetType(), "field is immutable"))
	}
	if !o.GetImmutable() {
		return errs
	}
	if !n.GetImmutable() {
		errs = append(errs, forbidden("immutable", "field is immutable when `immutable` is set"))
	}
	if !proto.Equal(&corev1.Secret{Data: n.GetData()}, &corev1.Secret{Data: o.GetData()}) || len(n.GetStringData()) > 0 {
		errs = append(errs, forbidden("data", "field is immutable when `immutable` is set"))
	}
	return errs
}

func configMapUpdate(n, o *corev1.ConfigMap) List {
	if !o.GetImmutable() {
		return nil
	}
	var errs List
	if !n.GetImmutable() {
		errs = append(errs, forbidden("immutable", "field is immutable when `immutable` is set"))
	}
	if !proto.Equal(&corev1.ConfigMap{Data: n.GetData()}, &corev1.ConfigMap{Data: o.GetData()}) {
		errs = append(errs, forbidden("data", "field is immutable when `immutable` is set"))
	}
	if !proto.Equal(&corev1.ConfigMap{BinaryData: n.GetBinaryData()}, &corev1.ConfigMap{BinaryData: o.GetBinaryData()}) {
		errs = append(errs, forbidden("binaryData", "field is immutable when `immutable` is set"))
	}
	return errs
}
