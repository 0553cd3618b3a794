package config

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// KubeconfigSpec is what Write puts in a minimal kubeconfig: one cluster,
// one user and one context, all named ContextName ("tugboat" when empty).
type KubeconfigSpec struct {
	ContextName string
	Server      string
	Namespace   string
	CAData      []byte
	CertData    []byte
	KeyData     []byte
	Token       string
	// InsecureSkipTLSVerify disables server certificate checks (tests only).
	InsecureSkipTLSVerify bool
}

// Write writes spec as a kubeconfig at path with 0600 permissions, creating
// its directory (0700) when missing. Credentials are embedded as data.
func Write(path string, spec KubeconfigSpec) error {
	if spec.Server == "" {
		return fmt.Errorf("kubeconfig %s: no server to write", path)
	}
	name := spec.ContextName
	if name == "" {
		name = "tugboat"
	}
	f := File{
		APIVersion: "v1",
		Kind:       "Config",
		Clusters: []NamedCluster{{Name: name, Cluster: Cluster{
			Server:                   spec.Server,
			CertificateAuthorityData: spec.CAData,
			InsecureSkipTLSVerify:    spec.InsecureSkipTLSVerify,
		}}},
		Users: []NamedUser{{Name: name, User: User{
			ClientCertificateData: spec.CertData,
			ClientKeyData:         spec.KeyData,
			Token:                 spec.Token,
		}}},
		Contexts:       []NamedContext{{Name: name, Context: Context{Cluster: name, User: name, Namespace: spec.Namespace}}},
		CurrentContext: name,
	}
	return WriteFile(path, f)
}

// WriteFile writes f as a kubeconfig at path with 0600 permissions,
// creating its directory (0700) when missing. The file is replaced
// atomically, so readers never see half of it.
func WriteFile(path string, f File) error {
	data, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	// Write a temporary file and rename it so readers never see half a file
	// and the permissions are right from the first byte.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kubeconfig-*")
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return nil
}
