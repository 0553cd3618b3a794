package cluster

import (
	"errors"
	"io/fs"

	"github.com/tugboat-sh/tugboat/client/config"
)

// Merge puts spec's cluster (server and CA) and user (client certificate
// and key, or token) into the kubeconfig at path, each and the context
// named name, and makes it the current context. Other contexts in the
// file are kept; a missing file is created (0600).
func Merge(path, name string, spec config.KubeconfigSpec) error {
	spec.ContextName = name
	f, err := config.LoadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return config.Write(path, spec)
	}
	if err != nil {
		return err
	}
	f.APIVersion, f.Kind = "v1", "Config"
	f.Clusters = replace(f.Clusters, config.NamedCluster{Name: name, Cluster: config.Cluster{
		Server: spec.Server, CertificateAuthorityData: spec.CAData, InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify,
	}}, func(c config.NamedCluster) string { return c.Name })
	f.Users = replace(f.Users, config.NamedUser{Name: name, User: config.User{
		ClientCertificateData: spec.CertData, ClientKeyData: spec.KeyData, Token: spec.Token,
	}}, func(u config.NamedUser) string { return u.Name })
	f.Contexts = replace(f.Contexts, config.NamedContext{Name: name, Context: config.Context{Cluster: name, User: name, Namespace: spec.Namespace}}, func(c config.NamedContext) string { return c.Name })
	f.CurrentContext = name
	return config.WriteFile(path, *f)
}

// replace swaps the entry named like v for v, or appends v.
func replace[T any](list []T, v T, name func(T) string) []T {
	for i := range list {
		if name(list[i]) == name(v) {
			list[i] = v
			return list
		}
	}
	return append(list, v)
}
