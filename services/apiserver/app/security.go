package app

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Authorisation modes.
const (
	ModeAlwaysAllow = "AlwaysAllow"
	ModeNode        = "Node"
	ModeRBAC        = "RBAC"
)

// Security is TLS, authentication, authorisation and audit.
type Security struct {
	// TLSCertFile and TLSKeyFile serve TLS on the listen address.
	TLSCertFile, TLSKeyFile string
	// CertDir, when set (and no TLSCertFile), holds a cluster CA and the
	// serving certificate, created on first start (pki.Dir); its ca.crt is
	// the client CA unless ClientCAFile says otherwise, and its sa.key signs
	// service-account tokens unless ServiceAccountKeyFile says otherwise.
	CertDir string
	// TLSSANs are extra names and addresses of the serving certificate CertDir creates.
	TLSSANs []string
	// ClientCAFile verifies client certificates (user from CN, groups from O).
	ClientCAFile string
	// TokenAuthFile is a static token file (token,user,uid,"group1,group2").
	TokenAuthFile string
	// ServiceAccountKeyFile signs and verifies service-account tokens.
	ServiceAccountKeyFile string
	// BootstrapTokenAuth accepts bootstrap tokens from kube-system Secrets.
	BootstrapTokenAuth bool
	// AnonymousAuth makes requests without credentials system:anonymous
	// (group system:unauthenticated) when authentication runs and
	// authorisation is not AlwaysAllow, as in Kubernetes; RBAC decides
	// what they may do (the cluster-info ConfigMap in kube-public, the
	// public health and version paths).
	AnonymousAuth bool
	// AuthorizationModes, in order: AlwaysAllow, or Node and/or RBAC.
	AuthorizationModes []string
	// AuditLogPath: empty means <data-dir>/audit.log, "-" stdout, "none" off.
	AuditLogPath                                          string
	AuditLogMaxSizeMB, AuditLogMaxBackups, AuditLogMaxAge int
}

func (s *Security) addFlags(fs *flag.FlagSet) {
	if len(s.AuthorizationModes) == 0 {
		s.AuthorizationModes = []string{ModeAlwaysAllow}
	}
	fs.StringVar(&s.TLSCertFile, "tls-cert-file", s.TLSCertFile, "serving certificate (PEM); with --tls-private-key-file, gRPC and REST are served over TLS")
	fs.StringVar(&s.TLSKeyFile, "tls-private-key-file", s.TLSKeyFile, "serving private key (PEM, mode 0600)")
	fs.StringVar(&s.CertDir, "cert-dir", s.CertDir, "directory of the cluster CA and serving certificate, created on first start (instead of --tls-cert-file)")
	fs.Func("tls-sans", "comma-separated extra DNS names and IPs of the serving certificate --cert-dir creates", func(v string) error {
		s.TLSSANs = splitList(v)
		return nil
	})
	fs.StringVar(&s.ClientCAFile, "client-ca-file", s.ClientCAFile, "CA bundle verifying client certificates (user = CN, groups = O)")
	fs.StringVar(&s.TokenAuthFile, "token-auth-file", s.TokenAuthFile, "static bearer tokens, CSV: token,user,uid,\"group1,group2\"")
	fs.StringVar(&s.ServiceAccountKeyFile, "service-account-key-file", s.ServiceAccountKeyFile, "private key (PEM, 0600) signing and verifying service-account tokens")
	fs.BoolVar(&s.BootstrapTokenAuth, "enable-bootstrap-token-auth", s.BootstrapTokenAuth, "accept bootstrap tokens (Secrets bootstrap-token-<id> in kube-system)")
	fs.BoolVar(&s.AnonymousAuth, "anonymous-auth", s.AnonymousAuth, "requests without credentials are user system:anonymous in group system:unauthenticated, authorised by RBAC (only with authentication on and an authorization mode other than AlwaysAllow); false makes them 401")
	fs.Func("authorization-mode", "comma-separated authorisers in order: AlwaysAllow, or Node,RBAC (default AlwaysAllow)", func(v string) error {
		s.AuthorizationModes = splitList(v)
		return nil
	})
	fs.StringVar(&s.AuditLogPath, "audit-log-path", s.AuditLogPath, "audit log of mutating requests, JSON lines (default <data-dir>/audit.log; - for stdout, none to turn it off)")
	fs.IntVar(&s.AuditLogMaxSizeMB, "audit-log-maxsize", s.AuditLogMaxSizeMB, "megabytes of the audit log before it is rotated")
	fs.IntVar(&s.AuditLogMaxBackups, "audit-log-maxbackup", s.AuditLogMaxBackups, "rotated audit logs kept (0 keeps all)")
	fs.IntVar(&s.AuditLogMaxAge, "audit-log-maxage", s.AuditLogMaxAge, "days rotated audit logs are kept (0 keeps them)")
}

func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// TLS reports whether TLS is served.
func (s *Security) TLS() bool { return s.TLSCertFile != "" || s.CertDir != "" }

// authenticates reports whether any authenticator is configured.
func (s *Security) authenticates() bool {
	return s.ClientCAFile != "" || s.CertDir != "" || s.TokenAuthFile != "" || s.ServiceAccountKeyFile != "" || s.BootstrapTokenAuth
}

// alwaysAllow reports whether authorisation is off.
func (s *Security) alwaysAllow() bool {
	return len(s.AuthorizationModes) == 0 || slices.Equal(s.AuthorizationModes, []string{ModeAlwaysAllow})
}

func (s *Security) validate() error {
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return fmt.Errorf("--tls-cert-file and --tls-private-key-file go together")
	}
	if s.TLSCertFile != "" && s.CertDir != "" {
		return fmt.Errorf("--cert-dir and --tls-cert-file exclude each other")
	}
	if len(s.TLSSANs) > 0 && s.CertDir == "" {
		return fmt.Errorf("--tls-sans needs --cert-dir (it names the certificate that directory creates)")
	}
	if s.ClientCAFile != "" && !s.TLS() {
		return fmt.Errorf("--client-ca-file needs TLS: set --tls-cert-file and --tls-private-key-file, or --cert-dir")
	}
	seen := map[string]bool{}
	for _, m := range s.AuthorizationModes {
		switch m {
		case ModeAlwaysAllow, ModeNode, ModeRBAC:
		default:
			return fmt.Errorf("--authorization-mode: unknown mode %q (want AlwaysAllow, Node, RBAC)", m)
		}
		if seen[m] {
			return fmt.Errorf("--authorization-mode: %s is given twice", m)
		}
		seen[m] = true
	}
	if seen[ModeAlwaysAllow] && len(s.AuthorizationModes) > 1 {
		return fmt.Errorf("--authorization-mode: AlwaysAllow cannot be combined with %v", s.AuthorizationModes)
	}
	if !s.alwaysAllow() && !s.authenticates() {
		return fmt.Errorf("--authorization-mode=%s needs authentication: set --client-ca-file (or --cert-dir), --token-auth-file, --service-account-key-file or --enable-bootstrap-token-auth", strings.Join(s.AuthorizationModes, ","))
	}
	return nil
}

// extraSANs splits --tls-sans into names and addresses.
func (s *Security) extraSANs() (dns []string, ips []net.IP) {
	for _, v := range s.TLSSANs {
		if ip := net.ParseIP(v); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, v)
		}
	}
	return dns, ips
}
