package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

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

// renewFraction: a client certificate with less than this part of its
// life left is renewed.
const renewFraction = 0.1

// requestTimeout bounds each wait for a certificate signing request to be
// approved and signed (a variable for tests).
var requestTimeout = 2 * time.Minute

// bootstrap makes sure --kubeconfig holds a usable client certificate.
// A valid one far from its end is left as it is. One still valid but in
// the last 10% of its life is renewed with the current credentials (the
// request then comes from system:node:<name>, which the approver takes
// as a renewal); if that fails the kubelet warns and keeps the current
// certificate. When --kubeconfig is missing, or its certificate expired,
// does not parse or does not pair with its key, a TLS bootstrap with
// --bootstrap-kubeconfig (a bootstrap token) asks for a new one. Either
// way the new certificate is checked and written, with the server and CA
// of the kubeconfig used for the request, as a kubeconfig (0600, written
// atomically). Every wait for a request is bounded by requestTimeout.
// Without --bootstrap-kubeconfig, a --kubeconfig whose certificate is no
// longer valid is an error, and one near its end a warning.
func bootstrap(ctx context.Context, cfg Config, log *zap.Logger) error {
	if cfg.BootstrapKubeconfig == "" {
		return checkCredentials(cfg, log)
	}
	_, err := os.Stat(cfg.Kubeconfig)
	switch {
	case err == nil:
		reason, valid := renewalReason(cfg.Kubeconfig, cfg.Context, time.Now())
		if reason == "" {
			log.Info("kubeconfig exists, TLS bootstrap skipped", zap.String("kubeconfig", cfg.Kubeconfig))
			return nil
		}
		if valid {
			log.Info("renewing the node's client certificate with its current credentials", zap.String("kubeconfig", cfg.Kubeconfig), zap.String("reason", reason))
			err := renew(ctx, cfg, log)
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return err
			}
			log.Warn("client certificate renewal failed, starting with the current certificate, still valid", zap.String("kubeconfig", cfg.Kubeconfig), zap.Error(err))
			return nil
		}
		log.Info("renewing the node's client certificate by TLS bootstrap", zap.String("kubeconfig", cfg.Kubeconfig), zap.String("reason", reason))
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--kubeconfig %s: %w", cfg.Kubeconfig, err)
	}
	bc, err := config.Load(cfg.BootstrapKubeconfig, "")
	if err != nil {
		return fmt.Errorf("--bootstrap-kubeconfig: %w", err)
	}
	if err := checkBootstrapTrust(bc, cfg.Insecure); err != nil {
		return fmt.Errorf("--bootstrap-kubeconfig %s: %w", cfg.BootstrapKubeconfig, err)
	}
	return requestAndWrite(ctx, cfg, bc, "TLS bootstrap", log)
}

// renew asks for a new client certificate with the current kubeconfig's
// credentials and writes it to --kubeconfig.
func renew(ctx context.Context, cfg Config, log *zap.Logger) error {
	kc, err := config.Load(cfg.Kubeconfig, cfg.Context)
	if err != nil {
		return fmt.Errorf("renewal of node %s: --kubeconfig %s: %w", cfg.NodeName, cfg.Kubeconfig, err)
	}
	return requestAndWrite(ctx, cfg, kc, "certificate renewal", log)
}

// requestAndWrite requests the node's client certificate over a
// connection with kc's credentials, waits at most requestTimeout, and
// writes --kubeconfig with kc's server and CA and the new certificate.
func requestAndWrite(ctx context.Context, cfg Config, kc *config.Config, what string, log *zap.Logger) error {
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return fmt.Errorf("%s of node %s: %w", what, cfg.NodeName, err)
	}
	defer conn.Close()
	log.Info("requesting the node's client certificate", zap.String("node", cfg.NodeName), zap.String("server", kc.Server), zap.String("by", what))
	var opts []tlsbootstrap.Option
	if len(kc.CAData) > 0 {
		opts = append(opts, tlsbootstrap.WithCA(kc.CAData))
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	creds, err := tlsbootstrap.RequestNodeCertificate(rctx, clientset.New(conn), cfg.NodeName, 0, opts...)
	if err != nil {
		if ctx.Err() == nil && (rctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded) {
			return fmt.Errorf("%s of node %s: the certificate signing request was not approved and signed within %s (is the controller-manager running, and may it approve this request?): %w", what, cfg.NodeName, requestTimeout, err)
		}
		return bootstrapError(ctx, what, cfg.NodeName, kc.Server, err)
	}
	if err := config.Write(cfg.Kubeconfig, config.KubeconfigSpec{
		ContextName: bootstrapContext, Server: kc.Server, CAData: kc.CAData,
		CertData: creds.CertPEM, KeyData: creds.KeyPEM, InsecureSkipTLSVerify: kc.InsecureSkipTLSVerify,
	}); err != nil {
		return fmt.Errorf("%s of node %s: %w", what, cfg.NodeName, err)
	}
	log.Info("node client certificate issued", zap.String("node", cfg.NodeName), zap.String("request", creds.Request), zap.String("kubeconfig", cfg.Kubeconfig))
	return nil
}

// checkBootstrapTrust refuses a bootstrap kubeconfig that would send the
// bootstrap token to a server it does not verify: no CA data, or
// insecure-skip-tls-verify. --insecure allows both.
func checkBootstrapTrust(bc *config.Config, insecure bool) error {
	if insecure {
		return nil
	}
	if bc.InsecureSkipTLSVerify {
		return errors.New("insecure-skip-tls-verify is set: the kubelet sends its bootstrap token only to a server it verifies (run with --insecure to allow it)")
	}
	if len(bc.CAData) == 0 {
		return errors.New("no certificate-authority data: the kubelet sends its bootstrap token only to a server it verifies against the cluster CA (run with --insecure to allow it)")
	}
	return nil
}

// checkCredentials looks at the client certificate of the kubeconfig in
// use when there is no bootstrap kubeconfig to renew it: an expired or
// broken one is an error, one near its end a warning. A kubeconfig
// without a client certificate (a token), or one that cannot be found or
// read, is left to the connection to report.
func checkCredentials(cfg Config, log *zap.Logger) error {
	path, err := config.Locate(cfg.Kubeconfig)
	if err != nil {
		return nil
	}
	kc, err := config.Load(path, cfg.Context)
	if err != nil || len(kc.CertData) == 0 {
		return nil
	}
	cert, err := clientCert(kc)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %w; there is no --bootstrap-kubeconfig to get a new one", path, err)
	}
	now := time.Now()
	if now.After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return fmt.Errorf("--kubeconfig %s: the client certificate of %q is valid from %s to %s, not now; there is no --bootstrap-kubeconfig to get a new one", path, cert.Subject.CommonName, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if renewDue(cert, now) {
		log.Warn("client certificate expires soon and there is no --bootstrap-kubeconfig to renew it", zap.String("kubeconfig", path), zap.String("user", cert.Subject.CommonName), zap.Time("notAfter", cert.NotAfter))
	}
	return nil
}

// renewalReason says why the kubeconfig at path needs a new client
// certificate, or "" when it does not; valid: its certificate, though due
// for renewal, still works (it pairs with its key and is valid now).
func renewalReason(path, context string, now time.Time) (reason string, valid bool) {
	kc, err := config.Load(path, context)
	if err != nil {
		return fmt.Sprintf("it does not load: %v", err), false
	}
	cert, err := clientCert(kc)
	if err != nil {
		return err.Error(), false
	}
	switch {
	case now.After(cert.NotAfter):
		return "the client certificate expired at " + cert.NotAfter.UTC().Format(time.RFC3339), false
	case now.Before(cert.NotBefore):
		return "the client certificate is not valid before " + cert.NotBefore.UTC().Format(time.RFC3339), false
	case renewDue(cert, now):
		return "the client certificate expires at " + cert.NotAfter.UTC().Format(time.RFC3339) + ", within the last 10% of its life", true
	}
	return "", false
}

// clientCert parses the kubeconfig's client certificate and checks it
// pairs with its key.
func clientCert(kc *config.Config) (*x509.Certificate, error) {
	if len(kc.CertData) == 0 || len(kc.KeyData) == 0 {
		return nil, errors.New("it has no client certificate and key")
	}
	pair, err := tls.X509KeyPair(kc.CertData, kc.KeyData)
	if err != nil {
		return nil, fmt.Errorf("its client certificate and key do not pair: %w", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("its client certificate does not parse: %w", err)
	}
	return cert, nil
}

// renewDue reports whether less than renewFraction of cert's life is left.
func renewDue(cert *x509.Certificate, now time.Time) bool {
	life := cert.NotAfter.Sub(cert.NotBefore)
	return cert.NotAfter.Sub(now) < time.Duration(float64(life)*renewFraction)
}

// bootstrapError says in one sentence why the node got no certificate by
// what (a TLS bootstrap or a renewal).
func bootstrapError(ctx context.Context, what, node, server string, err error) error {
	var se interface{ GRPCStatus() *status.Status }
	var st *status.Status
	if errors.As(err, &se) {
		st = se.GRPCStatus()
	}
	creds := "the bootstrap credentials"
	if what != "TLS bootstrap" {
		creds = "the node's current credentials"
	}
	switch {
	case ctx.Err() != nil || st != nil && (st.Code() == codes.DeadlineExceeded || st.Code() == codes.Canceled):
		// The deadline travels to the apiserver, which may end the
		// watch a moment before ctx reports it.
		return fmt.Errorf("%s of node %s: stopped before the certificate was issued (context deadline exceeded or canceled): %w", what, node, err)
	case errors.Is(err, tlsbootstrap.ErrDenied):
		return fmt.Errorf("%s of node %s: the certificate was refused: %w", what, node, err)
	case errors.Is(err, tlsbootstrap.ErrInvalidCertificate):
		return fmt.Errorf("%s of node %s: %s issued a certificate the kubelet will not use: %w", what, node, server, err)
	case st != nil && st.Code() == codes.Unauthenticated:
		return fmt.Errorf("%s of node %s: %s refused %s (an unknown or expired token or certificate?): %s", what, node, server, creds, st.Message())
	case st != nil && st.Code() == codes.PermissionDenied:
		return fmt.Errorf("%s of node %s: %s does not let %s request a certificate: %s", what, node, server, creds, st.Message())
	}
	return fmt.Errorf("%s of node %s: %w", what, node, err)
}
