package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	kubelet "github.com/tugboat-sh/tugboat/services/kubelet/app"
	proxy "github.com/tugboat-sh/tugboat/services/proxy/app"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// JoinComponents are the parts of a joined node, in start order: the
// kubelet, which requests its client certificate with the bootstrap
// kubeconfig and writes the node's kubeconfig, and the proxy, which uses
// that kubeconfig once it exists. Their cleanups are tug up's (the same
// layout under the data dir), so tug down removes a joined node's pods,
// bridge, routes and nftables table as it does a local cluster's.
func JoinComponents(j JoinConfig) []Component {
	return []Component{
		{Name: "kubelet", Run: func(ctx context.Context, _ Config, ready func(), log *zap.Logger) error {
			ready()
			return kubelet.Run(ctx, joinKubeletConfig(j), log)
		}, Cleanup: cleanKubelet},
		{Name: "proxy", Run: func(ctx context.Context, _ Config, ready func(), log *zap.Logger) error {
			if err := waitKubeconfig(ctx, j.KubeletKubeconfig()); err != nil {
				return err
			}
			cfg := proxyConfig(j.Config)
			cfg.Kubeconfig = j.KubeletKubeconfig()
			cfg.OnReady = ready
			return proxy.Run(ctx, cfg, log)
		}, Cleanup: cleanProxy},
	}
}

// joinKubeletConfig is tug up's kubelet with the node's own credentials:
// the bootstrap kubeconfig until its certificate is issued, the node's
// kubeconfig after (the node process deletes the bootstrap kubeconfig
// once the node's is written: a restart has the node's kubeconfig
// alone); its pod
// CIDR comes from the controller-manager's node IPAM.
func joinKubeletConfig(j JoinConfig) kubelet.Config {
	cfg := kubeletConfig(j.Config)
	cfg.Kubeconfig = j.KubeletKubeconfig()
	if _, err := os.Stat(j.BootstrapKubeconfig()); err == nil {
		cfg.BootstrapKubeconfig = j.BootstrapKubeconfig()
	}
	cfg.PodCIDR = ""
	if j.NodeIP != "" {
		cfg.NodeIP = j.NodeIP
	}
	return cfg
}

// kubeconfigPoll is the pause between looks for the node's kubeconfig.
const kubeconfigPoll = 100 * time.Millisecond

// waitKubeconfig waits until the kubelet has written the node's
// kubeconfig (after its TLS bootstrap), or ctx ends.
func waitKubeconfig(ctx context.Context, path string) error {
	for {
		if _, err := config.Load(path, ""); err == nil {
			return nil
		}
		if !sleep(ctx, kubeconfigPoll) {
			return ctx.Err()
		}
	}
}

// checkCredentials says whether the data dir has what the node runs
// with: the node's kubeconfig (an earlier run's), else the bootstrap
// kubeconfig tug join wrote.
func (j JoinConfig) checkCredentials() error {
	_, nodeErr := config.Load(j.KubeletKubeconfig(), "")
	if nodeErr == nil {
		return nil
	}
	if _, err := config.Load(j.BootstrapKubeconfig(), ""); err == nil {
		return nil
	}
	if !errors.Is(nodeErr, os.ErrNotExist) {
		if _, err := os.Stat(j.KubeletKubeconfig()); err == nil {
			return fmt.Errorf("the node's kubeconfig %s is unusable (%v) and there is no %s: join the cluster again with tug join <host>:<port> --token ... --discovery-token-ca-cert-hash ...",
				j.KubeletKubeconfig(), nodeErr, j.BootstrapKubeconfig())
		}
	}
	return fmt.Errorf("%s has neither %s nor %s: join the cluster with tug join <host>:<port> --token ... --discovery-token-ca-cert-hash ... first",
		j.DataDir, j.BootstrapKubeconfig(), j.KubeletKubeconfig())
}

// dropBootstrapKubeconfig deletes the bootstrap kubeconfig (the join
// token) once the kubelet has written a usable node kubeconfig after its
// TLS bootstrap, whether tug join waits in the background or runs in the
// foreground: the token is not left on disk after it is needed. It
// returns nil when ctx ends first (the node is stopping).
func dropBootstrapKubeconfig(ctx context.Context, j JoinConfig, log *zap.Logger) error {
	if _, err := os.Lstat(j.BootstrapKubeconfig()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := waitKubeconfig(ctx, j.KubeletKubeconfig()); err != nil {
		return nil
	}
	if err := os.Remove(j.BootstrapKubeconfig()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the bootstrap kubeconfig: %w", err)
	}
	log.Info("bootstrap kubeconfig removed", zap.String("path", j.BootstrapKubeconfig()))
	return nil
}

// RunJoin runs a joined node in this process until ctx ends or a part
// fails: it locks the data dir (as tug up does), writes the pid file and
// runs JoinComponents, deleting the bootstrap kubeconfig once the node's
// kubeconfig is written (dropBootstrapKubeconfig). It needs the bootstrap kubeconfig tug join wrote,
// or the node's kubeconfig from an earlier run.
func RunJoin(parent context.Context, j JoinConfig, log *zap.Logger) error {
	if errs := j.validateNode(); len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := checkDataDir(j.DataDir); err != nil {
		return err
	}
	if err := j.checkCredentials(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	unlock, err := lockDataDir(j.Config)
	if err != nil {
		return err
	}
	defer unlock()
	if err := j.writeMode(ModeJoin); err != nil {
		return err
	}
	if err := stopStaleContainerd(j.Config); err != nil {
		return err
	}
	if err := pki.WriteFile(j.pidFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	defer os.Remove(j.pidFile())

	g, gctx := errgroup.WithContext(ctx)
	for _, comp := range JoinComponents(j) {
		g.Go(func() error {
			if err := comp.Run(gctx, j.Config, func() {}, log.Named(comp.Name)); err != nil {
				return fmt.Errorf("%s: %w", comp.Name, err)
			}
			if gctx.Err() == nil {
				return fmt.Errorf("%s stopped", comp.Name)
			}
			return nil
		})
		log.Info("component started", zap.String("component", comp.Name))
	}
	g.Go(func() error { return dropBootstrapKubeconfig(gctx, j, log) })
	err = g.Wait()
	if parent.Err() != nil {
		log.Info("node stopped")
		return nil
	}
	return err
}
