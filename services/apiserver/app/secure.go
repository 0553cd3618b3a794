package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"github.com/tugboat-sh/tugboat/services/apiserver/audit"
	"github.com/tugboat-sh/tugboat/services/apiserver/authn"
	"github.com/tugboat-sh/tugboat/services/apiserver/authz"
	"github.com/tugboat-sh/tugboat/services/apiserver/cache"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"github.com/tugboat-sh/tugboat/services/apiserver/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// saKeyName is the base name of the service-account signing key under
// --cert-dir (sa.key).
const saKeyName = "sa"

// KubeletClientName is the base name of the apiserver's client certificate
// for kubelets under --cert-dir (kubeadm's name); its user is
// KubeletClientUser in no group: kubelets admit that user by name, and the
// certificate is no cluster-admin credential at the apiserver (a cert dir's
// older certificate in system:masters is re-issued).
const (
	KubeletClientName = "apiserver-kubelet-client"
	KubeletClientUser = "kube-apiserver-kubelet-client"
)

// security is what setupSecurity built; nil fields are off.
type security struct {
	tls *tls.Config
	// kubeletTLS dials kubelets; nil is plaintext (--insecure).
	kubeletTLS *tls.Config
	// etcdTLS are the embedded etcd's certificates; nil is plaintext
	// (--insecure, or external etcd).
	etcdTLS *pki.EtcdFiles
	authn   *authn.Authenticator
	// serviceAccounts signs and verifies service-account tokens; nil
	// without a key.
	serviceAccounts *authn.ServiceAccounts
	guard           *authz.Guard
	audit           *audit.Logger
	// run are the caches the authenticator and authorisers read.
	run []func(ctx context.Context)
	// synced waits for their first lists.
	synced []func(ctx context.Context) bool
	// resources are what they mirror.
	resources []string
}

// setupSecurity loads the certificates, keys and token file and opens the
// audit log, before etcd is opened: a bad file stops the start with nothing
// written. attach adds what reads the registry.
func setupSecurity(cfg *Config, promReg prometheus.Registerer) (*security, error) {
	s := &cfg.Security
	sec := &security{authn: &authn.Authenticator{}}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.CertDir != "" {
		dir := pki.Dir(s.CertDir)
		ca, err := dir.LoadOrCreateCA()
		if err != nil {
			return nil, err
		}
		kp, err := dir.LoadOrCreateServing(ca, pki.APIServerName, "tug-apiserver", servingNames(cfg))
		if err != nil {
			return nil, err
		}
		if _, err := dir.LoadOrCreateClient(ca, KubeletClientName, KubeletClientUser, nil); err != nil {
			return nil, err
		}
		if s.KubeletClientCertFile == "" {
			s.KubeletClientCertFile, s.KubeletClientKeyFile = dir.CertPath(KubeletClientName), dir.KeyPath(KubeletClientName)
		}
		if s.ClientCAFile == "" {
			s.ClientCAFile = dir.CertPath(pki.CAName)
		}
		if s.ServiceAccountKeyFile == "" {
			if _, err := dir.LoadOrCreateKey(saKeyName); err != nil {
				return nil, fmt.Errorf("service account key: %w", err)
			}
			s.ServiceAccountKeyFile = dir.KeyPath(saKeyName)
		}
		sec.tls = serverTLS(kp.TLSCertificate())
	} else if s.TLSCertFile != "" {
		if err := pki.CheckKeyFile(s.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("--tls-private-key-file: %w", err)
		}
		cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert-file and --tls-private-key-file: %w", err)
		}
		sec.tls = serverTLS(cert)
	}

	if !s.Insecure && len(cfg.EtcdServers) == 0 {
		dir := s.CertDir
		if dir == "" {
			// --tls-cert-file: the etcd files still live under the data dir.
			dir = filepath.Join(cfg.DataDir, "pki")
		}
		files, err := pki.Dir(dir).LoadOrCreateEtcd()
		if err != nil {
			return nil, fmt.Errorf("embedded etcd certificates: %w", err)
		}
		sec.etcdTLS = &files
	}

	if !s.Insecure {
		kt, err := kubelet.ClientTLS(s.KubeletClientCertFile, s.KubeletClientKeyFile, s.KubeletCAFile)
		if err != nil {
			return nil, err
		}
		sec.kubeletTLS = kt
	}

	a := sec.authn
	if s.ClientCAFile != "" {
		pool, err := authn.LoadClientCA(s.ClientCAFile)
		if err != nil {
			return nil, err
		}
		a.Certs = authn.NewCertAuthenticator(pool)
	}
	if s.TokenAuthFile != "" {
		tf, err := authn.LoadTokenFile(s.TokenAuthFile)
		if err != nil {
			return nil, err
		}
		a.Tokens = append(a.Tokens, tf)
	}
	if s.ServiceAccountKeyFile != "" {
		sa, err := authn.LoadServiceAccountKey(s.ServiceAccountKeyFile)
		if err != nil {
			return nil, err
		}
		a.Tokens = append(a.Tokens, sa)
		sec.serviceAccounts = sa
	}

	if path := auditPath(cfg); path != "" {
		if path != "-" {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("audit log directory: %w", err)
			}
		}
		l, err := audit.New(audit.Options{Path: path, MaxSizeMB: s.AuditLogMaxSizeMB, MaxBackups: s.AuditLogMaxBackups, MaxAgeDays: s.AuditLogMaxAge}, promReg)
		if err != nil {
			return nil, err
		}
		sec.audit = l
	}
	return sec, nil
}

// attach adds the parts that read the registry: the bootstrap tokens'
// Secret cache, the service accounts' cache and the authorisers with
// their mirrors.
func (sec *security) attach(cfg *Config, reg *registry.Registry, promReg prometheus.Registerer, log *zap.Logger) {
	s := &cfg.Security
	a := sec.authn
	if s.BootstrapTokenAuth {
		secrets := cache.New(reg.Resource("secrets"), &metav1.ListOptions{Namespace: bootstraptoken.Namespace, FieldSelector: "type=" + bootstraptoken.SecretType}, nil, log.Named("bootstrap-tokens"))
		sec.run, sec.resources = append(sec.run, secrets.Run), append(sec.resources, "secrets")
		sec.synced = append(sec.synced, secrets.WaitSynced)
		a.Tokens = append(a.Tokens, authn.NewBootstrapTokens(secrets))
	}
	if sec.serviceAccounts != nil {
		// A service-account token is accepted only while its account
		// exists with the token's UID, read from this cache.
		accounts := cache.New(reg.Resource("serviceaccounts"), nil, nil, log.Named("service-accounts"))
		sec.run, sec.resources = append(sec.run, accounts.Run), append(sec.resources, "serviceaccounts")
		sec.synced = append(sec.synced, accounts.WaitSynced)
		sec.serviceAccounts.Bind(s.APIAudiences, accounts)
	}
	// Anonymous may make only the public requests (authn.PublicHTTP,
	// authn.PublicGRPC), whatever the authorisation mode.
	a.Anonymous = s.AnonymousAuth
	if sec.audit != nil {
		a.OnHTTPRefused = sec.audit.HTTPRefused
	}
	if !a.Enabled() {
		sec.authn = nil
	} else {
		a.Log = log.Named("authn")
		a.Failures = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tugboat_apiserver_authentication_failures_total",
			Help: "Requests refused for missing or invalid credentials.",
		})
		promReg.MustRegister(a.Failures)
		if sec.tls == nil {
			log.Warn("bearer tokens are accepted over plaintext: anyone on the network can read them; serve TLS with --cert-dir or --tls-cert-file")
		}
	}

	if !s.alwaysAllow() {
		chain := authz.Chain{authz.Masters{}}
		var rbac *authz.RBAC
		for _, m := range s.AuthorizationModes {
			switch m {
			case ModeNode:
				n := authz.NewNode(reg, log.Named("node-authorizer"))
				sec.run, sec.resources = append(sec.run, n.Run), append(sec.resources, "pods")
				sec.synced = append(sec.synced, n.WaitSynced)
				chain = append(chain, n)
			case ModeRBAC:
				r := authz.NewRBAC(reg, log.Named("rbac"))
				rbac = r
				sec.run, sec.resources = append(sec.run, r.Run), append(sec.resources, "roles", "clusterroles", "rolebindings", "clusterrolebindings")
				sec.synced = append(sec.synced, r.WaitSynced)
				chain = append(chain, r)
			}
		}
		sec.guard = authz.NewGuard(chain, promReg, log.Named("authz"))
		if rbac != nil {
			sec.guard.PreventEscalation(rbac)
		}
	}
	if s.Insecure {
		log.Warn(insecureWarning)
	} else if s.KubeletClientCertFile == "" {
		log.Warn("no kubelet client certificate: kubelets will refuse pods/log and pods/exec; set --kubelet-client-certificate and --kubelet-client-key, or use --cert-dir")
	}
}

// insecureWarning is logged at the start of an --insecure server.
const insecureWarning = `
******************************************************************
*  INSECURE: tug-apiserver runs with --insecure                  *
*  - plaintext: no TLS, every byte (tokens, secrets) is readable *
*  - no authentication: every request is accepted                *
*  - AlwaysAllow: anyone who reaches the port is cluster-admin   *
*  For local experiments only. Never expose this port.           *
******************************************************************`

// auditPath is where audit lines go, "" for nowhere.
func auditPath(cfg *Config) string {
	switch p := cfg.Security.AuditLogPath; p {
	case "none":
		return ""
	case "":
		if cfg.DataDir == "" {
			return ""
		}
		return filepath.Join(cfg.DataDir, "audit.log")
	default:
		return p
	}
}

// servingNames are the serving certificate's SANs (contract: 127.0.0.1,
// localhost, the host's names and addresses, --advertise-address,
// --tls-sans, the kubernetes Service's IP and names).
func servingNames(cfg *Config) pki.ServingNames {
	dns, ips := cfg.Security.extraSANs()
	if host, err := os.Hostname(); err == nil {
		dns = append(dns, host)
	}
	if a := net.ParseIP(cfg.AdvertiseAddress); a != nil {
		ips = append(ips, a)
	}
	if p, err := netip.ParsePrefix(cfg.ServiceClusterIPRange); err == nil {
		ips = append(ips, net.IP(p.Masked().Addr().Next().AsSlice()))
	}
	return pki.APIServerNames(dns, append(ips, pki.HostIPs()...))
}

// checkDataDir refuses a data dir others may write to (they could replace
// etcd's data, the keys or the audit log).
func checkDataDir(dir string) error {
	if dir == "" {
		return nil
	}
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("data directory %s has mode %#o: it must not be writable by group or others (chmod 700)", dir, st.Mode().Perm())
	}
	return nil
}

// serverTLS asks for client certificates (verified by the authenticator,
// so a foreign one is a 401 with a reason, not a handshake failure) and
// prefers HTTP/1.1 for clients that offer it: REST clients get HTTP/1.1,
// gRPC clients (which offer only h2) get HTTP/2, and cmux splits them.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		NextProtos:   []string{"http/1.1", "h2"},
	}
}

// interceptors are the security interceptors, in order: audit (so refused
// credentials are logged), authentication, authorisation.
func (s *security) interceptors() ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	var u []grpc.UnaryServerInterceptor
	var st []grpc.StreamServerInterceptor
	if s.audit != nil {
		u, st = append(u, s.audit.UnaryServerInterceptor()), append(st, s.audit.StreamServerInterceptor())
	}
	if s.authn != nil {
		u, st = append(u, s.authn.UnaryServerInterceptor()), append(st, s.authn.StreamServerInterceptor())
	}
	if s.guard != nil {
		u, st = append(u, s.guard.UnaryServerInterceptor()), append(st, s.guard.StreamServerInterceptor())
	}
	return slices.Clip(u), slices.Clip(st)
}
