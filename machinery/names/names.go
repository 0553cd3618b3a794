// Package names checks object names, label keys and label values the way
// Kubernetes does (DNS-1123 labels and subdomains, qualified names).
package names

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The checks below answer valid names from a byte scan (valid.go) and ask
// k8s.io/apimachinery only for the reasons of an invalid one: the common case
// costs no regular expression, and the messages stay Kubernetes' own.

// Subdomain returns why s is not a DNS-1123 subdomain (most object names), or nil.
func Subdomain(s string) []string {
	if isSubdomain(s) {
		return nil
	}
	return validation.IsDNS1123Subdomain(s)
}

// Label returns why s is not a DNS-1123 label (namespaces, container and port names), or nil.
func Label(s string) []string {
	if len(s) <= 63 && isLabel(s) {
		return nil
	}
	return validation.IsDNS1123Label(s)
}

// LabelKey returns why s is not a valid label or annotation key, or nil.
func LabelKey(s string) []string {
	if isQualifiedName(s) {
		return nil
	}
	return validation.IsQualifiedName(s)
}

// LabelValue returns why s is not a valid label value, or nil.
func LabelValue(s string) []string {
	if s == "" || (len(s) <= 63 && isNamePart(s)) {
		return nil
	}
	return validation.IsValidLabelValue(s)
}

// PortName returns why s is not a valid IANA service name for a port, or nil.
func PortName(s string) []string {
	if isPortName(s) {
		return nil
	}
	return validation.IsValidPortName(s)
}

// EnvVarName returns why s is not a valid environment variable name, or nil.
func EnvVarName(s string) []string {
	if isEnvVarName(s) {
		return nil
	}
	return validation.IsEnvVarName(s)
}

// ConfigMapKey returns why s is not a valid config map or secret key, or nil.
func ConfigMapKey(s string) []string { return validation.IsConfigMapKey(s) }

// Join turns a list of reasons into one message.
func Join(reasons []string) string { return strings.Join(reasons, "; ") }

// PathSegment checks a name that only has to be safe in a URL path (RBAC
// roles and bindings, which use names like system:kube-scheduler): not "."
// or "..", without "/" or "%", as Kubernetes' ValidatePathSegmentName.
func PathSegment(s string) []string {
	switch {
	case s == "." || s == "..":
		return []string{`may not be '.' or '..'`}
	case strings.ContainsAny(s, "/%"):
		return []string{`may not contain '/' or '%'`}
	}
	return nil
}
