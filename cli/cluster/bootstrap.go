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
	tok, err := bootstraptoken.Generate()
	if err != nil {
		return "", err
	}
	info := bootstraptoken.New(tok, ttlOrNever(c.TokenTTL), time.Now(), "created by tug "+c.verb())
	// The apiserver says it is ready once it serves; retry the first
	// writes while its authorisers finish their first lists.
	for {
		err = discovery.Publish(ctx, cs, kc.Server, kc.CAData)
		if err == nil {
			_, err = cs.Secrets().Create(ctx, info.AsSecret())
			if status.Code(err) == codes.AlreadyExists {
				err = nil
			}
		}
		if err == nil {
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
	if err := os.WriteFile(c.joinFile(), []byte(line+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("join command file: %w", err)
	}
	log.Info("bootstrap token created", zap.String("token", tok.ID), zap.Duration("ttl", c.TokenTTL), zap.String("joinCommandFile", c.joinFile()))
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

// readJoinFile returns the join line the cluster process wrote.
func readJoinFile(c Config) (string, error) {
	b, err := os.ReadFile(c.joinFile())
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
