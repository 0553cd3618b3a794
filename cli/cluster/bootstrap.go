package cluster

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/discovery"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// writeCredentials runs tug init's phases for c: the cert dir's files
// (Certs), the admin's kubeconfig reaching the advertised address, and
// each component's reaching the local one (with tug up the kubelet's,
// issued directly from the CA as kubeadm does for its own node).
func writeCredentials(c Config) error {
	if _, err := Certs(CertsOptions{CertDir: c.certDir(), ExtraSANs: c.extraSANs()}); err != nil {
		return err
	}
	local, err := c.localTarget()
	if err != nil {
		return err
	}
	adv, err := c.advertisedTarget()
	if err != nil {
		return err
	}
	node := c.NodeName
	if c.Init {
		node = ""
	}
	ids := Identities(node)
	if _, err := Kubeconfigs(c.certDir(), "https://"+adv, c.DataDir, ids[:1]); err != nil {
		return err
	}
	_, err = Kubeconfigs(c.certDir(), "https://"+local, c.DataDir, ids[1:])
	return err
}

// mergeUserKubeconfig merges admin.conf into the user's kubeconfig as
// context c.ContextName: the CA and the admin's client certificate.
func mergeUserKubeconfig(c Config) error {
	kc, err := config.Load(c.AdminKubeconfig(), "")
	if err != nil {
		return err
	}
	return Merge(c.Kubeconfig, c.ContextName, config.KubeconfigSpec{Server: kc.Server, CAData: kc.CAData, CertData: kc.CertData, KeyData: kc.KeyData})
}

// JoinCommand is the line a new node joins with, as kubeadm prints it:
// tug join <host>:<port> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hex>.
func JoinCommand(target string, tok bootstraptoken.Token, ca *x509.Certificate) string {
	return fmt.Sprintf("tug join %s --token %s --discovery-token-ca-cert-hash %s", target, tok, pki.Hash(ca))
}

// bootstrapTimeout bounds publishing cluster-info and creating the token
// once the apiserver serves.
const bootstrapTimeout = 30 * time.Second

// bootstrap makes the cluster joinable once the apiserver serves: as the
// admin it publishes the cluster-info ConfigMap (the advertised server
// and the CA; the controller-manager's bootstrap signer signs it for each
// token) and creates a bootstrap token living c.TokenTTL, then writes
// the join line to the data dir (0600) and returns it.
func bootstrap(ctx context.Context, c Config, log *zap.Logger) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
	defer cancel()
	kc, err := config.Load(c.AdminKubeconfig(), "")
	if err != nil {
		return "", err
	}
	ca, err := pki.ParseCert(kc.CAData)
	if err != nil {
		return "", fmt.Errorf("admin kubeconfig's CA: %w", err)
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	cs := clientset.New(conn)
	prev, hasPrev := previousToken(c)
	var tok bootstraptoken.Token
	// The apiserver says it is ready once it serves; retry the first
	// calls while its authorisers finish their first lists.
	for {
		err = discovery.Publish(ctx, cs, kc.Server, kc.CAData)
		reused := false
		if err == nil && hasPrev {
			reused, err = tokenUsable(ctx, cs, prev, c.TokenTTL)
			if reused {
				tok = prev
			}
		}
		if err == nil && !reused {
			tok, err = createToken(ctx, cs, c, tok)
		}
		if err == nil {
			if reused {
				log.Info("bootstrap token reused", zap.String("token", tok.ID))
			}
			break
		}
		log.Info("bootstrap retried", zap.Error(err))
		if !sleep(ctx, retryEvery) {
			return "", fmt.Errorf("publish cluster-info and create the bootstrap token: %w", errors.Join(err, ctx.Err()))
		}
	}
	target, _, err := config.Target(kc.Server)
	if err != nil {
		return "", err
	}
	line := JoinCommand(target, tok, ca)
	// Written whole (a rename): tug up/init's first process polls it.
	if err := pki.WriteFile(c.joinFile(), []byte(line+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("join command file: %w", err)
	}
	_ = os.Remove(c.prevJoinFile())
	log.Info("bootstrap token ready", zap.String("token", tok.ID), zap.Duration("ttl", c.TokenTTL), zap.String("joinCommandFile", c.joinFile()))
	return line, nil
}

// ttlOrNever is bootstraptoken.New's ttl for a --token-ttl: 0 never expires.
func ttlOrNever(ttl time.Duration) time.Duration {
	if ttl == 0 {
		return -1
	}
	return ttl
}

func (c Config) verb() string {
	if c.Init {
		return "init"
	}
	return "up"
}

// errNoJoinLine is readJoinFile's answer for a join file not written yet.
var errNoJoinLine = errors.New("the join command is not written yet")

// readJoinFile returns the join line the cluster process wrote; an empty
// file is one not written yet (errNoJoinLine), as a missing one is.
func readJoinFile(c Config) (string, error) {
	return readJoinLine(c.joinFile())
}

func readJoinLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", errNoJoinLine
	}
	if err != nil {
		return "", fmt.Errorf("join command file: %w", err)
	}
	line := strings.TrimSpace(string(b))
	if line == "" {
		return "", errNoJoinLine
	}
	return line, nil
}

// prevJoinFile is where Start moves the join file of the last run while
// the new process starts: the new one reuses its token (previousToken),
// and Start waits for the new process's own line.
func (c Config) prevJoinFile() string { return c.joinFile() + ".prev" }

// previousToken is the token of the last run's join line (the join file,
// or the one Start moved aside), if there is one.
func previousToken(c Config) (bootstraptoken.Token, bool) {
	for _, path := range []string{c.joinFile(), c.prevJoinFile()} {
		line, err := readJoinLine(path)
		if err != nil {
			continue
		}
		if tok, ok := lineToken(line); ok {
			return tok, true
		}
	}
	return bootstraptoken.Token{}, false
}

// lineToken is the token of a join line (JoinCommand).
func lineToken(line string) (bootstraptoken.Token, bool) {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "--token" {
			tok, err := bootstraptoken.Parse(f[i+1])
			return tok, err == nil
		}
	}
	return bootstraptoken.Token{}, false
}

// tokenUsable says whether the token of the last run may be printed
// again (reusable): its Secret exists, holds the same secret and lives
// long enough for the requested --token-ttl. An error is a failed call
// (retried).
func tokenUsable(ctx context.Context, cs *clientset.Set, tok bootstraptoken.Token, ttl time.Duration) (bool, error) {
	s, err := cs.Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: tok.SecretName()})
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up the last bootstrap token %s: %w", tok.ID, err)
	}
	info, err := bootstraptoken.FromSecret(s)
	if err != nil || !info.Token.Matches(tok) || info.CanAuthenticate(time.Now()) != nil {
		return false, nil
	}
	return reusable(info.Expires, s.GetMetadata().GetCreationTimestamp().AsTime(), ttl, time.Now()), nil
}

// reuseMinLeft is the life a reused token must have left (or half the
// requested --token-ttl when that is shorter): a join line printed with
// seconds left would fail before anyone pastes it.
const reuseMinLeft = 10 * time.Minute

// ttlSlack absorbs the second an expiry is truncated to and the delay
// between minting a token and its Secret's creation timestamp.
const ttlSlack = time.Minute

// reusable says whether a valid token expiring at expires (zero: never),
// whose Secret was created at created, serves a start asking for ttl
// (zero: never expires): at least min(reuseMinLeft, ttl/2) of life left,
// and ttl no longer than the old token's own.
func reusable(expires, created time.Time, ttl time.Duration, now time.Time) bool {
	if expires.IsZero() {
		return true // never expires: as long as any ttl asked for
	}
	if ttl <= 0 {
		return false // never-expiring asked for; the old one expires
	}
	minLeft := min(reuseMinLeft, ttl/2)
	if expires.Sub(now) < minLeft {
		return false
	}
	if created.IsZero() || ttl > expires.Sub(created)+ttlSlack {
		return false
	}
	return true
}

// createToken creates a bootstrap token's Secret living c.TokenTTL: tok
// when it is set (a retry of an earlier attempt), else a new one.
func createToken(ctx context.Context, cs *clientset.Set, c Config, tok bootstraptoken.Token) (bootstraptoken.Token, error) {
	if tok.ID == "" {
		var err error
		if tok, err = bootstraptoken.Generate(); err != nil {
			return tok, err
		}
	}
	info := bootstraptoken.New(tok, ttlOrNever(c.TokenTTL), time.Now(), "created by tug "+c.verb())
	_, err := cs.Secrets().Create(ctx, info.AsSecret())
	if status.Code(err) == codes.AlreadyExists {
		err = nil
	}
	return tok, err
}

// TokenExpires says when the bootstrap token of a join line was made
// and when it expires (zero: never), as its Secret says, asked with the
// admin's kubeconfig: a restart reuses a token made earlier, whose life
// is shorter than --token-ttl.
func TokenExpires(ctx context.Context, c Config, line string) (created, expires time.Time, err error) {
	tok, ok := lineToken(line)
	if !ok {
		return time.Time{}, time.Time{}, fmt.Errorf("the join line holds no token: %q", line)
	}
	kc, err := config.Load(c.AdminKubeconfig(), "")
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	conn, err := config.Dial(ctx, kc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := clientset.New(conn).Secrets().Get(ctx, &metav1.GetOptions{Namespace: bootstraptoken.Namespace, Name: tok.SecretName()})
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("bootstrap token %s: %w", tok.ID, err)
	}
	info, err := bootstraptoken.FromSecret(s)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return s.GetMetadata().GetCreationTimestamp().AsTime(), info.Expires, nil
}
