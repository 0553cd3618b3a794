package cluster

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	"sigs.k8s.io/yaml"
)

// The identities of contract 4: who each kubeconfig says it is.
const (
	AdminUser = "kubernetes-admin"
	DNSUser   = "system:kube-dns"
)

// Identity is one kubeconfig "tug init phase kubeconfig" writes: its file
// name and the client certificate's user (CN) and groups (O).
type Identity struct {
	File   string
	User   string
	Groups []string
}

// The kubeconfig files' names, as kubeadm names them (dns.conf is ours).
const (
	AdminConf             = "admin.conf"
	SchedulerConf         = "scheduler.conf"
	ControllerManagerConf = "controller-manager.conf"
	ProxyConf             = "proxy.conf"
	DNSConf               = "dns.conf"
	KubeletConf           = "kubelet.conf"
)

// Identities are the control plane's and the node components' kubeconfigs,
// and with a node name the kubelet's (system:node:<name> in system:nodes).
func Identities(nodeName string) []Identity {
	ids := []Identity{
		{File: AdminConf, User: AdminUser, Groups: []string{pki.GroupMasters}},
		{File: SchedulerConf, User: pki.UserScheduler},
		{File: ControllerManagerConf, User: pki.UserControllerManager},
		{File: ProxyConf, User: pki.UserProxy},
		{File: DNSConf, User: DNSUser},
	}
	if nodeName != "" {
		ids = append(ids, Identity{File: KubeletConf, User: pki.NodeUser(nodeName), Groups: []string{pki.GroupNodes}})
	}
	return ids
}

// Kubeconfigs writes one kubeconfig per identity into outDir (0600, the
// CA and the client certificate and key embedded), each reaching server
// and signed by the CA of certDir, which must exist (tug init phase
// certs). A file that already holds a certificate of this CA for the same
// identity and server, not near its expiry, is kept as it is. It returns
// the paths written or kept.
func Kubeconfigs(certDir, server, outDir string, ids []Identity) ([]string, error) {
	if !isHTTPS(server) {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", server)
	}
	ca, err := pki.Dir(certDir).Load(pki.CAName)
	if err != nil {
		return nil, fmt.Errorf("the cluster CA in %s (run tug init phase certs first): %w", certDir, err)
	}
	var paths []string
	for _, id := range ids {
		path := filepath.Join(outDir, id.File)
		if err := writeKubeconfig(path, (*pki.CA)(ca), server, id); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func isHTTPS(server string) bool {
	_, secure, err := config.Target(server)
	return err == nil && secure
}

// writeKubeconfig writes id's kubeconfig at path unless the one there fits.
func writeKubeconfig(path string, ca *pki.CA, server string, id Identity) error {
	if fits(path, ca, server, id) {
		return nil
	}
	spec, err := UserKubeconfig(ca, server, id.User, id.Groups)
	if err != nil {
		return err
	}
	return config.Write(path, spec)
}

// UserKubeconfig is a kubeconfig for user in groups reaching server, with
// a client certificate the CA issues now (a year's validity) and the CA
// itself, as "tug kubeconfig user" prints it. Its context is "tugboat".
func UserKubeconfig(ca *pki.CA, server, user string, groups []string) (config.KubeconfigSpec, error) {
	kp, err := ca.IssueClient(user, groups, 0)
	if err != nil {
		return config.KubeconfigSpec{}, err
	}
	key, err := kp.KeyPEM()
	if err != nil {
		return config.KubeconfigSpec{}, err
	}
	return config.KubeconfigSpec{Server: server, CAData: ca.CertPEM(), CertData: kp.CertPEM(), KeyData: key}, nil
}

// renewKubeconfigBefore rewrites a kubeconfig whose certificate expires
// sooner than this.
const renewKubeconfigBefore = 30 * 24 * time.Hour

// fits says the kubeconfig at path is id's, for server, with a client
// certificate of ca valid for a while yet.
func fits(path string, ca *pki.CA, server string, id Identity) bool {
	kc, err := config.Load(path, "")
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return false
	}
	if kc.Server != server || !bytes.Equal(kc.CAData, ca.CertPEM()) || len(kc.CertData) == 0 || len(kc.KeyData) == 0 {
		return false
	}
	cert, err := pki.ParseCert(kc.CertData)
	if err != nil || ca.Verify(cert, x509.ExtKeyUsageClientAuth) != nil {
		return false
	}
	if cert.Subject.CommonName != id.User || !slices.Equal(cert.Subject.Organization, id.Groups) {
		return false
	}
	if time.Until(cert.NotAfter) < renewKubeconfigBefore {
		return false
	}
	key, err := pki.ParseKey(kc.KeyData)
	if err != nil {
		return false
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}

// UserKubeconfigYAML is UserKubeconfig as the file's bytes, its cluster,
// user and context named "tugboat".
func UserKubeconfigYAML(ca *pki.CA, server, user string, groups []string) ([]byte, error) {
	if !isHTTPS(server) {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", server)
	}
	spec, err := UserKubeconfig(ca, server, user, groups)
	if err != nil {
		return nil, err
	}
	const name = "tugboat"
	f := config.File{
		APIVersion:     "v1",
		Kind:           "Config",
		Clusters:       []config.NamedCluster{{Name: name, Cluster: config.Cluster{Server: server, CertificateAuthorityData: spec.CAData}}},
		Users:          []config.NamedUser{{Name: name, User: config.User{ClientCertificateData: spec.CertData, ClientKeyData: spec.KeyData}}},
		Contexts:       []config.NamedContext{{Name: name, Context: config.Context{Cluster: name, User: name}}},
		CurrentContext: name,
	}
	return yaml.Marshal(f)
}
