package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/tlsbootstrap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// bootstrapContext names the cluster, user and context of the kubeconfig
// the TLS bootstrap writes.
const bootstrapContext = "default"

// bootstrap makes --kubeconfig from --bootstrap-kubeconfig when the first
// does not exist: with the bootstrap credentials (a bootstrap token) it
// asks the apiserver for the node's client certificate, waits until it is
// signed, and writes a kubeconfig holding the bootstrap kubeconfig's
// server and CA and the new certificate and key (0600, written
// atomically). An existing --kubeconfig is left as it is.
func bootstrap(ctx context.Context, cfg Config, log *zap.Logger) error {
	if cfg.BootstrapKubeconfig == "" {
		return nil
	}
	if _, err := os.Stat(cfg.Kubeconfig); err == nil {
		log.Info("kubeconfig exists, TLS bootstrap skipped", zap.String("kubeconfig", cfg.Kubeconfig))
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--kubeconfig %s: %w", cfg.Kubeconfig, err)
	}
	bc, err := config.Load(cfg.BootstrapKubeconfig, "")
	if err != nil {
		return fmt.Errorf("--bootstrap-kubeconfig: %w", err)
	}
	conn, err := config.Dial(ctx, bc)
	if err != nil {
		return fmt.Errorf("--bootstrap-kubeconfig: %w", err)
	}
	defer conn.Close()
	log.Info("requesting the node's client certificate", zap.String("node", cfg.NodeName), zap.String("server", bc.Server))
	creds, err := tlsbootstrap.RequestNodeCertificate(ctx, clientset.New(conn), cfg.NodeName, 0)
	if err != nil {
		return bootstrapError(ctx, cfg.NodeName, bc.Server, err)
	}
	if err := config.Write(cfg.Kubeconfig, config.KubeconfigSpec{
		ContextName: bootstrapContext, Server: bc.Server, CAData: bc.CAData,
		CertData: creds.CertPEM, KeyData: creds.KeyPEM, InsecureSkipTLSVerify: bc.InsecureSkipTLSVerify,
	}); err != nil {
		return fmt.Errorf("TLS bootstrap of node %s: %w", cfg.NodeName, err)
	}
	log.Info("node client certificate issued", zap.String("node", cfg.NodeName), zap.String("request", creds.Request), zap.String("kubeconfig", cfg.Kubeconfig))
	return nil
}

// bootstrapError says in one sentence why the node got no certificate.
func bootstrapError(ctx context.Context, node, server string, err error) error {
	var se interface{ GRPCStatus() *status.Status }
	var st *status.Status
	if errors.As(err, &se) {
		st = se.GRPCStatus()
	}
	switch {
	case ctx.Err() != nil || st != nil && (st.Code() == codes.DeadlineExceeded || st.Code() == codes.Canceled):
		// The deadline travels to the apiserver, which may end the
		// watch a moment before ctx reports it.
		return fmt.Errorf("TLS bootstrap of node %s: stopped before the certificate was issued (context deadline exceeded or canceled): %w", node, err)
	case errors.Is(err, tlsbootstrap.ErrDenied):
		return fmt.Errorf("TLS bootstrap of node %s: the certificate was refused: %w", node, err)
	case st != nil && st.Code() == codes.Unauthenticated:
		return fmt.Errorf("TLS bootstrap of node %s: %s refused the bootstrap credentials (an unknown or expired token?): %s", node, server, st.Message())
	case st != nil && st.Code() == codes.PermissionDenied:
		return fmt.Errorf("TLS bootstrap of node %s: %s does not let the bootstrap credentials request a certificate: %s", node, server, st.Message())
	}
	return fmt.Errorf("TLS bootstrap of node %s: %w", node, err)
}
