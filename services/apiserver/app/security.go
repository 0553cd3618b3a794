package app

import (
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
)

// Authorisation modes.
const (
	ModeAlwaysAllow = "AlwaysAllow"
	ModeNode        = "Node"
	ModeRBAC        = "RBAC"
)

// Security is TLS, authentication, authorisation and audit. Its defaults
// (DefaultConfig) are secure: TLS from a cert dir under the data dir,
// client certificates and bootstrap tokens, Node,RBAC. Insecure turns all
// of it off, and only explicitly.
type Security struct {
	// Insecure serves plaintext with no authentication and AlwaysAllow
	// authorisation (local experiments only); it refuses to combine with
	// the TLS, authentication and authorisation settings.
	Insecure bool
	// TLSCertFile and TLSKeyFile serve TLS on the listen address.
	TLSCertFile, TLSKeyFile string
	// CertDir (default <data-dir>/pki unless TLSCertFile or Insecure is
	// set) holds a cluster CA and the
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
	// APIAudiences are the apiserver's audiences: a service-account token
	// is accepted only when its audience includes one of them, and a
	// TokenRequest without audiences gets them.
	APIAudiences []string
	// BootstrapTokenAuth accepts bootstrap tokens from kube-system Secrets.
	BootstrapTokenAuth bool
	// AnonymousAuth makes requests without credentials system:anonymous
	// (group system:unauthenticated) when authentication runs and
	// authorisation is not AlwaysAllow, as in Kubernetes; RBAC decides
	// what they may do (the cluster-info ConfigMap in kube-public, the
	// public health and version paths).
	AnonymousAuth bool
	// AuthorizationModes, in order: Node and/or RBAC; AlwaysAllow only
	// with Insecure (which sets it), an empty list never.
	AuthorizationModes []string
	// AuditLogPath: empty means <data-dir>/audit.log, "-" stdout, "none" off.
	AuditLogPath                                          string
	AuditLogMaxSizeMB, AuditLogMaxBackups, AuditLogMaxAge int

	// KubeletClientCertFile and KubeletClientKeyFile are the client
	// certificate the apiserver presents to kubelets (default with a cert
	// dir: its apiserver-kubelet-client.crt/.key).
	KubeletClientCertFile, KubeletClientKeyFile string
	// KubeletCAFile verifies kubelets' serving certificates; empty does not
	// verify them (Kubernetes' default: kubelets' certificates are
	// self-signed).
	KubeletCAFile string

	// set are the security flags given on the command line, which
	// --insecure refuses even when they repeat a default.
	set map[string]bool
}

// defaultSecurity is the secure default: everything on.
func defaultSecurity() Security {
	return Security{
		AuthorizationModes: []string{ModeNode, ModeRBAC},
		BootstrapTokenAuth: true,
		AnonymousAuth:      true,
		APIAudiences:       []string{authn.DefaultAPIAudience},
		AuditLogMaxSizeMB:  100, AuditLogMaxBackups: 10,
	}
}

func (s *Security) addFlags(fs *flag.FlagSet) {
	fs.BoolVar(&s.Insecure, "insecure", s.Insecure, "serve plaintext with no authentication and AlwaysAllow authorisation: anyone who reaches the port is cluster-admin (local experiments only; refuses the TLS, authentication and authorisation flags)")
	fs.StringVar(&s.TLSCertFile, "tls-cert-file", s.TLSCertFile, "serving certificate (PEM); with --tls-private-key-file, gRPC and REST are served over TLS")
	fs.StringVar(&s.TLSKeyFile, "tls-private-key-file", s.TLSKeyFile, "serving private key (PEM, mode 0600)")
	fs.StringVar(&s.CertDir, "cert-dir", s.CertDir, "directory of the cluster CA (ca.crt/.key), the serving certificate (apiserver.crt/.key), the service-account key (sa.key) and the kubelet client certificate (apiserver-kubelet-client.crt/.key), created on first start (default <data-dir>/pki unless --tls-cert-file or --insecure is given)")
	fs.Func("tls-sans", "comma-separated extra DNS names and IPs of the serving certificate --cert-dir creates", func(v string) error {
		s.TLSSANs = splitList(v)
		return nil
	})
	fs.StringVar(&s.ClientCAFile, "client-ca-file", s.ClientCAFile, "CA bundle verifying client certificates (user = CN, groups = O)")
	fs.StringVar(&s.TokenAuthFile, "token-auth-file", s.TokenAuthFile, "static bearer tokens, CSV: token,user,uid,\"group1,group2\"")
	fs.StringVar(&s.ServiceAccountKeyFile, "service-account-key-file", s.ServiceAccountKeyFile, "private key (PEM, 0600) signing and verifying service-account tokens")
	fs.Func("api-audiences", "comma-separated audiences of the apiserver: service-account tokens must carry one of them, and TokenRequests without audiences get them (default "+authn.DefaultAPIAudience+")", func(v string) error {
		if s.APIAudiences = splitList(v); len(s.APIAudiences) == 0 {
			return fmt.Errorf("needs at least one audience, e.g. %s", authn.DefaultAPIAudience)
		}
		return nil
	})
	fs.BoolVar(&s.BootstrapTokenAuth, "enable-bootstrap-token-auth", s.BootstrapTokenAuth, "accept bootstrap tokens (Secrets bootstrap-token-<id> in kube-system)")
	fs.BoolVar(&s.AnonymousAuth, "anonymous-auth", s.AnonymousAuth, "requests without credentials may GET /healthz, /livez, /readyz, /version and the ConfigMap kube-public/cluster-info as system:anonymous (group system:unauthenticated); anything else without credentials is 401, and false makes those 401 too")
	fs.Func("authorization-mode", "comma-separated authorisers in order: Node and/or RBAC (default Node,RBAC); empty and AlwaysAllow are refused (authorisation is off only with --insecure)", func(v string) error {
		s.AuthorizationModes = splitList(v)
		return nil
	})
	fs.StringVar(&s.AuditLogPath, "audit-log-path", s.AuditLogPath, "audit log of mutating requests, JSON lines (default <data-dir>/audit.log; - for stdout, none to turn it off)")
	fs.IntVar(&s.AuditLogMaxSizeMB, "audit-log-maxsize", s.AuditLogMaxSizeMB, "megabytes of the audit log before it is rotated")
	fs.IntVar(&s.AuditLogMaxBackups, "audit-log-maxbackup", s.AuditLogMaxBackups, "rotated audit logs kept (0 keeps all)")
	fs.IntVar(&s.AuditLogMaxAge, "audit-log-maxage", s.AuditLogMaxAge, "days rotated audit logs are kept (0 keeps them)")
	fs.StringVar(&s.KubeletClientCertFile, "kubelet-client-certificate", s.KubeletClientCertFile, "client certificate the apiserver presents to kubelets (default with a cert dir: its apiserver-kubelet-client.crt)")
	fs.StringVar(&s.KubeletClientKeyFile, "kubelet-client-key", s.KubeletClientKeyFile, "private key of --kubelet-client-certificate (mode 0600; default with a cert dir: its apiserver-kubelet-client.key)")
	fs.StringVar(&s.KubeletCAFile, "kubelet-certificate-authority", s.KubeletCAFile, "CA bundle verifying kubelets' serving certificates (default: not verified, as Kubernetes)")
	s.trackSet(fs)
}

// insecureClashes are the flags --insecure refuses.
var insecureClashes = []string{
	"tls-cert-file", "tls-private-key-file", "cert-dir", "tls-sans", "client-ca-file", "token-auth-file",
	"service-account-key-file", "api-audiences", "enable-bootstrap-token-auth", "anonymous-auth", "authorization-mode",
	"kubelet-client-certificate", "kubelet-client-key", "kubelet-certificate-authority",
}

// trackSet wraps the security flags so that Validate knows which were given.
func (s *Security) trackSet(fs *flag.FlagSet) {
	for _, name := range insecureClashes {
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		f.Value = &trackedValue{Value: f.Value, mark: func() {
			if s.set == nil {
				s.set = map[string]bool{}
			}
			s.set[name] = true
		}}
	}
}

// trackedValue records that its flag was given.
type trackedValue struct {
	flag.Value
	mark func()
}

func (v *trackedValue) Set(x string) error { v.mark(); return v.Value.Set(x) }

func (v *trackedValue) String() string {
	if v == nil || v.Value == nil {
		return ""
	}
	return v.Value.String()
}

// IsBoolFlag keeps "--flag" without a value working for bool flags.
func (v *trackedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
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

// validateInsecure refuses --insecure with a TLS, authentication or
// authorisation setting, then turns them all off.
func (s *Security) validateInsecure() error {
	for _, name := range insecureClashes {
		if s.set[name] {
			return fmt.Errorf("--insecure cannot be combined with --%s: --insecure serves plaintext with no authentication or authorisation", name)
		}
	}
	for name, given := range map[string]bool{
		"tls-cert-file": s.TLSCertFile != "", "tls-private-key-file": s.TLSKeyFile != "", "cert-dir": s.CertDir != "",
		"tls-sans": len(s.TLSSANs) > 0, "client-ca-file": s.ClientCAFile != "", "token-auth-file": s.TokenAuthFile != "",
		"service-account-key-file":   s.ServiceAccountKeyFile != "",
		"kubelet-client-certificate": s.KubeletClientCertFile != "", "kubelet-client-key": s.KubeletClientKeyFile != "",
		"kubelet-certificate-authority": s.KubeletCAFile != "",
		"authorization-mode":            !s.alwaysAllow() && !slices.Equal(s.AuthorizationModes, []string{ModeNode, ModeRBAC}),
	} {
		if given {
			return fmt.Errorf("--insecure cannot be combined with --%s: --insecure serves plaintext with no authentication or authorisation", name)
		}
	}
	s.AuthorizationModes = []string{ModeAlwaysAllow}
	s.BootstrapTokenAuth, s.AnonymousAuth = false, false
	return nil
}

// defaultCertDir gives a secure server without --tls-cert-file its cert
// dir under the data dir.
func (s *Security) defaultCertDir(dataDir string) error {
	if s.Insecure || s.TLSCertFile != "" || s.CertDir != "" {
		return nil
	}
	if dataDir == "" {
		return fmt.Errorf("TLS needs certificates: with no --data-dir, set --cert-dir (created on first start) or --tls-cert-file and --tls-private-key-file (or --insecure for plaintext)")
	}
	s.CertDir = filepath.Join(dataDir, "pki")
	return nil
}

func (s *Security) validate() error {
	if s.Insecure {
		return s.validateInsecure()
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return fmt.Errorf("--tls-cert-file and --tls-private-key-file go together")
	}
	if s.TLSCertFile != "" && s.CertDir != "" {
		return fmt.Errorf("--cert-dir and --tls-cert-file exclude each other")
	}
	if len(s.TLSSANs) > 0 && s.CertDir == "" {
		return fmt.Errorf("--tls-sans needs --cert-dir (it names the certificate that directory creates)")
	}
	if (s.KubeletClientCertFile == "") != (s.KubeletClientKeyFile == "") {
		return fmt.Errorf("--kubelet-client-certificate and --kubelet-client-key go together")
	}
	if s.ClientCAFile != "" && !s.TLS() {
		return fmt.Errorf("--client-ca-file needs TLS: set --tls-cert-file and --tls-private-key-file, or --cert-dir")
	}
	if len(s.AuthorizationModes) == 0 {
		return fmt.Errorf("--authorization-mode is empty: want Node,RBAC (the default), Node or RBAC; authorisation is off only with --insecure")
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
	if seen[ModeAlwaysAllow] {
		return fmt.Errorf("--authorization-mode=%s: AlwaysAllow makes anyone authenticated cluster-admin; it is allowed only with --insecure (want Node,RBAC, Node or RBAC)", strings.Join(s.AuthorizationModes, ","))
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
