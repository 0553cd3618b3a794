// Package config reads and writes kubeconfig files (the Kubernetes format:
// clusters, users, contexts and current-context) and dials the apiserver
// they describe over gRPC, with TLS, bearer tokens and client metrics.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultNamespace is the namespace of a context that names none.
const DefaultNamespace = "default"

// File is a kubeconfig file as written on disk. Unknown fields (exec,
// auth-provider, extensions, preferences) are ignored.
type File struct {
	APIVersion     string         `json:"apiVersion,omitempty"`
	Kind           string         `json:"kind,omitempty"`
	Clusters       []NamedCluster `json:"clusters"`
	Users          []NamedUser    `json:"users"`
	Contexts       []NamedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`

	// Path is where the file was read from; relative file references
	// are resolved against its directory. Not serialized.
	Path string `json:"-"`
}

// NamedCluster is one entry of clusters.
type NamedCluster struct {
	Name    string  `json:"name"`
	Cluster Cluster `json:"cluster"`
}

// Cluster says where an apiserver is and how to trust it.
type Cluster struct {
	Server                   string `json:"server"`
	TLSServerName            string `json:"tls-server-name,omitempty"`
	InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify,omitempty"`
	CertificateAuthority     string `json:"certificate-authority,omitempty"`
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
}

// NamedUser is one entry of users.
type NamedUser struct {
	Name string `json:"name"`
	User User   `json:"user"`
}

// User holds the credentials of a user: a client certificate, a bearer
// token, or both.
type User struct {
	ClientCertificate     string `json:"client-certificate,omitempty"`
	ClientCertificateData []byte `json:"client-certificate-data,omitempty"`
	ClientKey             string `json:"client-key,omitempty"`
	ClientKeyData         []byte `json:"client-key-data,omitempty"`
	Token                 string `json:"token,omitempty"`
	TokenFile             string `json:"tokenFile,omitempty"`
}

// NamedContext is one entry of contexts.
type NamedContext struct {
	Name    string  `json:"name"`
	Context Context `json:"context"`
}

// Context ties a cluster to a user and a default namespace.
type Context struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace,omitempty"`
}

// Config is what a client needs to reach the apiserver: one context of a
// kubeconfig with every file reference read.
type Config struct {
	// Server is a URL (http://127.0.0.1:6443, https://host:6443) or a
	// bare host:port, which means plaintext.
	Server                string
	TLSServerName         string
	CAData                []byte
	CertData              []byte
	KeyData               []byte
	Token                 string
	InsecureSkipTLSVerify bool
	// Namespace is the context's namespace, "default" when it names none.
	Namespace   string
	ContextName string
}

// ErrNoKubeconfig is returned by Load when no kubeconfig file exists.
var ErrNoKubeconfig = errors.New("config: no kubeconfig file found")

// Load reads the kubeconfig at path and resolves context. An empty path
// means the first existing file of the colon-separated $KUBECONFIG list,
// else ~/.kube/config; an empty context means the file's current-context.
func Load(path, context string) (*Config, error) {
	p, err := Locate(path)
	if err != nil {
		return nil, err
	}
	f, err := LoadFile(p)
	if err != nil {
		return nil, err
	}
	return f.Resolve(context)
}

// Locate returns the kubeconfig file Load would read for path.
func Locate(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if p == "" {
				continue
			}
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("%w: none of $KUBECONFIG=%q exists", ErrNoKubeconfig, env)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: $KUBECONFIG is unset and the home directory is unknown: %v", ErrNoKubeconfig, err)
	}
	p := filepath.Join(home, ".kube", "config")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: $KUBECONFIG is unset and %s: %v", ErrNoKubeconfig, p, err)
	}
	return p, nil
}

// LoadFile reads and parses the kubeconfig file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	var f File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	f.Path = path
	return &f, nil
}

// Resolve returns the Config of the named context (the current-context when
// name is empty), reading referenced files relative to the file's directory.
func (f *File) Resolve(name string) (*Config, error) {
	if name == "" {
		name = f.CurrentContext
	}
	if name == "" {
		return nil, fmt.Errorf("kubeconfig %s: no context given and current-context is not set", f.Path)
	}
	ctx, ok := f.context(name)
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s: context %q not found", f.Path, name)
	}
	cl, ok := f.cluster(ctx.Cluster)
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s: context %q refers to cluster %q, which is not defined", f.Path, name, ctx.Cluster)
	}
	if cl.Server == "" {
		return nil, fmt.Errorf("kubeconfig %s: cluster %q has no server", f.Path, ctx.Cluster)
	}
	cfg := &Config{
		Server:                cl.Server,
		TLSServerName:         cl.TLSServerName,
		InsecureSkipTLSVerify: cl.InsecureSkipTLSVerify,
		Namespace:             ctx.Namespace,
		ContextName:           name,
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	var err error
	if cfg.CAData, err = f.data(cl.CertificateAuthorityData, cl.CertificateAuthority, "cluster", ctx.Cluster, "certificate-authority"); err != nil {
		return nil, err
	}
	if ctx.User == "" {
		return cfg, nil
	}
	u, ok := f.user(ctx.User)
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s: context %q refers to user %q, which is not defined", f.Path, name, ctx.User)
	}
	if cfg.CertData, err = f.data(u.ClientCertificateData, u.ClientCertificate, "user", ctx.User, "client-certificate"); err != nil {
		return nil, err
	}
	if cfg.KeyData, err = f.data(u.ClientKeyData, u.ClientKey, "user", ctx.User, "client-key"); err != nil {
		return nil, err
	}
	if (cfg.CertData == nil) != (cfg.KeyData == nil) {
		return nil, fmt.Errorf("kubeconfig %s: user %q has a client certificate without a key or a key without a certificate", f.Path, ctx.User)
	}
	cfg.Token = u.Token
	if cfg.Token == "" && u.TokenFile != "" {
		tok, err := os.ReadFile(f.resolvePath(u.TokenFile))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: user %q tokenFile: %w", f.Path, ctx.User, err)
		}
		cfg.Token = strings.TrimSpace(string(tok))
	}
	return cfg, nil
}

func (f *File) context(name string) (Context, bool) {
	for _, c := range f.Contexts {
		if c.Name == name {
			return c.Context, true
		}
	}
	return Context{}, false
}

func (f *File) cluster(name string) (Cluster, bool) {
	for _, c := range f.Clusters {
		if c.Name == name {
			return c.Cluster, true
		}
	}
	return Cluster{}, false
}

func (f *File) user(name string) (User, bool) {
	for _, u := range f.Users {
		if u.Name == name {
			return u.User, true
		}
	}
	return User{}, false
}

// data returns inline data when present, else the referenced file's bytes.
func (f *File) data(inline []byte, ref, kind, owner, field string) ([]byte, error) {
	if len(inline) > 0 {
		return inline, nil
	}
	if ref == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.resolvePath(ref))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %s %q %s: %w", f.Path, kind, owner, field, err)
	}
	return b, nil
}

func (f *File) resolvePath(p string) string {
	if filepath.IsAbs(p) || f.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(f.Path), p)
}
