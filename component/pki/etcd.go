package pki

import (
	"net"
	"path/filepath"
)

// The embedded etcd's files, in kubeadm's layout: a CA of its own under
// <cert-dir>/etcd (ca.crt/.key), the etcd server's pair there
// (server.crt/.key, for 127.0.0.1 and localhost), and the apiserver's client
// pair in the cert dir itself (apiserver-etcd-client.crt/.key), issued by the
// etcd CA. A separate CA means a certificate of the cluster CA (a kubelet's,
// an admin's) is no credential for etcd.
const (
	EtcdDirName       = "etcd"
	EtcdServerName    = "server"
	EtcdClientName    = "apiserver-etcd-client"
	EtcdClientUser    = "kube-apiserver-etcd-client"
	etcdServerCN      = "kube-etcd"
	etcdServerDNSName = "localhost"
)

// EtcdFiles are the paths of the embedded etcd's certificates and keys.
type EtcdFiles struct {
	// CAFile is the etcd CA; it verifies the server and the clients.
	CAFile string
	// ServerCertFile and ServerKeyFile are etcd's serving pair.
	ServerCertFile, ServerKeyFile string
	// ClientCertFile and ClientKeyFile are the apiserver's client pair.
	ClientCertFile, ClientKeyFile string
}

// EtcdDir is the etcd CA's directory under d.
func (d Dir) EtcdDir() Dir { return Dir(filepath.Join(string(d), EtcdDirName)) }

// EtcdPaths names the etcd files under d without touching them.
func (d Dir) EtcdPaths() EtcdFiles {
	e := d.EtcdDir()
	return EtcdFiles{
		CAFile:         e.CertPath(CAName),
		ServerCertFile: e.CertPath(EtcdServerName),
		ServerKeyFile:  e.KeyPath(EtcdServerName),
		ClientCertFile: d.CertPath(EtcdClientName),
		ClientKeyFile:  d.KeyPath(EtcdClientName),
	}
}

// LoadOrCreateEtcd loads the etcd CA, etcd's serving pair and the
// apiserver's etcd client pair, creating (or re-issuing) what is missing or
// no longer fits, and returns their paths.
func (d Dir) LoadOrCreateEtcd() (EtcdFiles, error) {
	if err := d.ensure(); err != nil {
		return EtcdFiles{}, err
	}
	e := d.EtcdDir()
	ca, err := e.loadOrCreateCA("etcd-ca")
	if err != nil {
		return EtcdFiles{}, err
	}
	names := ServingNames{DNSNames: []string{etcdServerDNSName}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	if _, err := e.LoadOrCreateServing(ca, EtcdServerName, etcdServerCN, names); err != nil {
		return EtcdFiles{}, err
	}
	if _, err := d.LoadOrCreateClient(ca, EtcdClientName, EtcdClientUser, nil); err != nil {
		return EtcdFiles{}, err
	}
	return d.EtcdPaths(), nil
}
