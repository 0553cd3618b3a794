package cluster

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
// name, the component it is for (its directory in the split layout) and
// the client certificate's user (CN) and groups (O).
type Identity struct {
	File      string
	Component string
	User      string
	Groups    []string
}

// SplitFile is a kubeconfig's name inside its component's directory in
// the split layout: <out>/<component>/kubeconfig.
const SplitFile = "kubeconfig"

// Path is where id's kubeconfig goes under outDir: <outDir>/<File>, or
// with split <outDir>/<Component>/kubeconfig.
func (id Identity) Path(outDir string, split bool) string {
	if split {
		return filepath.Join(outDir, id.Component, SplitFile)
	}
	return filepath.Join(outDir, id.File)
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
		{File: AdminConf, Component: "admin", User: AdminUser, Groups: []string{pki.GroupMasters}},
		{File: SchedulerConf, Component: "scheduler", User: pki.UserScheduler},
		{File: ControllerManagerConf, Component: ControllerManager, User: pki.UserControllerManager},
		{File: ProxyConf, Component: "proxy", User: pki.UserProxy},
		{File: DNSConf, Component: "dns", User: DNSUser},
	}
	if nodeName != "" {
		ids = append(ids, Identity{File: KubeletConf, Component: "kubelet", User: pki.NodeUser(nodeName), Groups: []string{pki.GroupNodes}})
	}
	return ids
}

// ControllerManager is the controller-manager's directory in the split
// layout, which with KubeconfigOptions.SigningCA also holds ca.crt and
// ca.key.
const ControllerManager = "controller-manager"

// KubeconfigOptions say what WriteKubeconfigs writes and where.
type KubeconfigOptions struct {
	// CertDir holds the cluster CA (tug init phase certs).
	CertDir string
	// Server is the apiserver's https:// URL the kubeconfigs reach.
	Server string
	// OutDir is where the files go.
	OutDir string
	// Split puts each kubeconfig in a directory of its component's own
	// (<OutDir>/<component>/kubeconfig), so that each can be mounted
	// alone, instead of <OutDir>/<name>.conf.
	Split bool
	// SigningCA (with Split) also copies the CA's certificate and key into
	// <OutDir>/controller-manager/ (ca.crt, ca.key 0600): the pair the
	// controller-manager signs approved node CSRs with.
	SigningCA bool
}

// Kubeconfigs writes one kubeconfig per identity into outDir, named
// <name>.conf: WriteKubeconfigs without the split layout.
func Kubeconfigs(certDir, server, outDir string, ids []Identity) ([]string, error) {
	return WriteKubeconfigs(KubeconfigOptions{CertDir: certDir, Server: server, OutDir: outDir}, ids)
}

// WriteKubeconfigs writes one kubeconfig per identity under o.OutDir
// (0600, the CA and the client certificate and key embedded), each
// reaching o.Server and signed by the CA of o.CertDir, which must exist
// (tug init phase certs). A file that already holds a certificate of this
// CA for the same identity and server, not near its expiry, and that
// neither group nor others may read, is kept as it is; any other is
// reissued with a new key. It returns the paths written or kept.
func WriteKubeconfigs(o KubeconfigOptions, ids []Identity) ([]string, error) {
	if !isHTTPS(o.Server) {
		return nil, fmt.Errorf("--server %q: want https://HOST:PORT", o.Server)
	}
	if o.SigningCA && !o.Split {
		return nil, errors.New("--signing-ca needs --split: the CA's key goes only into the controller-manager's own directory")
	}
	ca, err := pki.Dir(o.CertDir).Load(pki.CAName)
	if err != nil {
		return nil, fmt.Errorf("the cluster CA in %s (run tug init phase certs first): %w", o.CertDir, err)
	}
	var paths []string
	for _, id := range ids {
		path := id.Path(o.OutDir, o.Split)
		if err := writeKubeconfig(path, (*pki.CA)(ca), o.Server, id); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	if o.SigningCA {
		dir := pki.Dir(filepath.Join(o.OutDir, ControllerManager))
		if err := copySigningCA(dir, ca); err != nil {
			return nil, fmt.Errorf("the controller-manager's signing CA in %s: %w", dir, err)
		}
		paths = append(paths, dir.CertPath(pki.CAName), dir.KeyPath(pki.CAName))
	}
	return paths, nil
}

// copySigningCA writes ca into dir unless the pair there is already it.
func copySigningCA(dir pki.Dir, ca *pki.KeyPair) error {
	if have, err := dir.Load(pki.CAName); err == nil && have.Cert.Equal(ca.Cert) {
		return nil
	}
	return dir.Write(pki.CAName, ca)
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
// certificate of ca valid for a while yet, in a file only its owner may
// read (a key others could read may have leaked: it is reissued).
func fits(path string, ca *pki.CA, server string, id Identity) bool {
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 != 0 {
		return false
	}
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
