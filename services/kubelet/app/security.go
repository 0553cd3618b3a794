package app

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tugboat-sh/tugboat/services/kubelet/serving"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// serverSecurity is the kubelet API's TLS and caller check: the serving
// pair (--tls-cert-file, or self-signed under --root-dir/pki), client
// certificates verified against --client-ca-file (else the kubeconfig's
// CA) and admitted for the apiserver's user or system:masters. With
// --insecure: none, and a warning.
func serverSecurity(cfg Config, kubeconfigCA []byte, log *zap.Logger) ([]grpc.ServerOption, error) {
	if cfg.Insecure {
		log.Warn("INSECURE: --insecure serves the kubelet API (logs, exec, attach, port-forward into every pod) in plaintext to anyone who can reach it; never use it on an address others can reach")
		return nil, nil
	}
	cert, certFile, err := servingCert(cfg)
	if err != nil {
		return nil, err
	}
	caPEM, caFrom := kubeconfigCA, "the kubeconfig's certificate authority"
	if cfg.ClientCAFile != "" {
		if caPEM, err = os.ReadFile(cfg.ClientCAFile); err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		caFrom = cfg.ClientCAFile
	}
	if len(caPEM) == 0 {
		return nil, fmt.Errorf("the kubelet API needs a client CA to verify the apiserver with: give --client-ca-file, or a kubeconfig with a certificate authority (or, for a private test setup only, --insecure)")
	}
	auth, err := serving.NewAuth(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caFrom, err)
	}
	log.Info("kubelet API on TLS", zap.String("certificate", certFile), zap.String("clientCA", caFrom))
	return []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(auth.TLSConfig(cert))),
		grpc.ChainUnaryInterceptor(auth.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(auth.StreamServerInterceptor()),
	}, nil
}

// servingCert loads --tls-cert-file or the self-signed pair.
func servingCert(cfg Config) (cert tls.Certificate, file string, err error) {
	if cfg.TLSCertFile != "" {
		c, err := serving.LoadFiles(cfg.TLSCertFile, cfg.TLSPrivateKeyFile)
		return c, cfg.TLSCertFile, err
	}
	host, _ := os.Hostname()
	dir := filepath.Join(cfg.RootDir, "pki")
	names := []string{cfg.NodeIP, host, cfg.NodeName}
	if cfg.Address != "" {
		names = append(names, cfg.Address)
	}
	c, err := serving.LoadOrCreate(dir, serving.Names(names...))
	return c, filepath.Join(dir, serving.Name+".crt"), err
}
