package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/tugboat-sh/tugboat/component/pki"
	apiserver "github.com/tugboat-sh/tugboat/services/apiserver/app"
)

// SAKeyName is the service-account signing key in the cert dir; the
// other files are pki's (ca, apiserver) and the apiserver's
// (apiserver-kubelet-client).
const SAKeyName = "sa.key"

// apiserverCommonName is the serving certificate's CN, the apiserver's own.
const apiserverCommonName = "tug-apiserver"

// CertsOptions is "tug init phase certs": the cert dir and the serving
// certificate's extra names.
type CertsOptions struct {
	CertDir string
	// AdvertiseAddress is the address other nodes reach the apiserver at.
	AdvertiseAddress string
	// ExtraSANs are more DNS names or IP addresses of the serving certificate.
	ExtraSANs []string
}

// Certs creates, or loads when they are there and still fit, what the
// apiserver's --cert-dir holds: the cluster CA (ca.crt, ca.key), the
// serving pair (apiserver.crt, .key) with the apiserver's SANs (its own
// default names, this host's name and addresses, the advertise address,
// the extra SANs), the client pair it presents to kubelets
// (apiserver-kubelet-client.crt, .key), the embedded etcd's CA and serving
// pair (etcd/ca.crt, .key, etcd/server.crt, .key) with the apiserver's
// etcd client pair (apiserver-etcd-client.crt, .key), and the
// service-account key (sa.key). The apiserver, started later with the same --cert-dir, loads
// the same files. Keys are 0600, the directory 0700.
func Certs(o CertsOptions) (*pki.CA, error) {
	if o.CertDir == "" {
		return nil, errors.New("--cert-dir: a directory is required")
	}
	var dns []string
	var ips []net.IP
	if o.AdvertiseAddress != "" {
		ip := net.ParseIP(o.AdvertiseAddress)
		if ip == nil {
			return nil, fmt.Errorf("--apiserver-advertise-address %q is not an IP address", o.AdvertiseAddress)
		}
		ips = append(ips, ip)
	}
	for _, s := range o.ExtraSANs {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		} else if s != "" {
			dns = append(dns, s)
		}
	}
	if host, err := os.Hostname(); err == nil {
		dns = append(dns, host)
	}
	dir := pki.Dir(o.CertDir)
	ca, err := dir.LoadOrCreateCA()
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	names := pki.APIServerNames(dns, append(ips, pki.HostIPs()...))
	if _, err := dir.LoadOrCreateServing(ca, pki.APIServerName, apiserverCommonName, names); err != nil {
		return nil, fmt.Errorf("apiserver serving certificate: %w", err)
	}
	if _, err := dir.LoadOrCreateClient(ca, apiserver.KubeletClientName, apiserver.KubeletClientUser, []string{pki.GroupMasters}); err != nil {
		return nil, fmt.Errorf("apiserver-kubelet-client certificate: %w", err)
	}
	if _, err := dir.LoadOrCreateEtcd(); err != nil {
		return nil, fmt.Errorf("etcd certificates: %w", err)
	}
	if err := ensureSAKey(filepath.Join(o.CertDir, SAKeyName)); err != nil {
		return nil, err
	}
	return ca, nil
}

// ensureSAKey creates the service-account signing key (ECDSA P-256, PEM,
// 0600) unless the file exists; an existing one must be private and parse.
func ensureSAKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		if err := pki.CheckKeyFile(path); err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("service-account key: %w", err)
		}
		if _, err := pki.ParseKey(b); err != nil {
			return fmt.Errorf("service-account key %s: %w", path, err)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("service-account key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("service-account key: %w", err)
	}
	pem, err := pki.EncodeKey(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, pki.KeyMode)
	if err != nil {
		return fmt.Errorf("write service-account key: %w", err)
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write service-account key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write service-account key: %w", err)
	}
	return nil
}
