package kubelet

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/pki"
)

// ClientTLS is the TLS configuration the apiserver dials kubelets with:
// it presents the client certificate of certFile and keyFile (none when
// both are empty; the key must be 0600 or stricter) and verifies the
// kubelet's serving certificate against caFile when one is given. Without
// caFile the serving certificate is not verified, as Kubernetes does by
// default: kubelets' serving certificates are self-signed.
func ClientTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if certFile != "" || keyFile != "" {
		if err := pki.CheckKeyFile(keyFile); err != nil {
			return nil, fmt.Errorf("--kubelet-client-key: %w", err)
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load --kubelet-client-certificate and --kubelet-client-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if caFile == "" {
		// Kubernetes' default (no --kubelet-certificate-authority): the
		// kubelet is not authenticated, the apiserver still is.
		cfg.InsecureSkipVerify = true //nolint:gosec // documented default, as Kubernetes'
		return cfg, nil
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read --kubelet-certificate-authority: %w", err)
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("--kubelet-certificate-authority %s: %w", caFile, err)
	}
	cfg.RootCAs = x509.NewCertPool()
	for _, c := range certs {
		cfg.RootCAs.AddCert(c)
	}
	return cfg, nil
}
