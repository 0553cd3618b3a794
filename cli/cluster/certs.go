package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

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
	if _, err := dir.LoadOrCreateClient(ca, apiserver.KubeletClientName, apiserver.KubeletClientUser, nil); err != nil {
		return nil, fmt.Errorf("apiserver-kubelet-client certificate: %w", err)
	}
	if _, err := dir.LoadOrCreateEtcd(); err != nil {
		return nil, fmt.Errorf("etcd certificates: %w", err)
	}
	if _, err := dir.LoadOrCreateKey(strings.TrimSuffix(SAKeyName, ".key")); err != nil {
		return nil, fmt.Errorf("service-account key: %w", err)
	}
	return ca, nil
}
