package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/tugboat-sh/tugboat/component/pki"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Run runs the cluster in this process until ctx ends or a component
// fails: it locks the data dir (a second Run on it fails at once, before
// touching anything of the first), writes the pid file, the certificates
// and the components' kubeconfigs (writeCredentials), starts the
// components in order (the later ones once the first is ready), and once
// the apiserver serves merges the admin's kubeconfig into the user's and
// makes the cluster joinable (bootstrap); on the way out it stops them
// all and removes the pid file. What the pods run keeps running in
// containerd's shims until tug down.
func Run(parent context.Context, c Config, log *zap.Logger) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	if err := checkDataDir(c.DataDir); err != nil {
		return err
	}
	if err := c.resolveAdvertise(defaultRouteAddr); err != nil {
		return err
	}
	if err := ensureDataDir(c.DataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(c)
	if err != nil {
		return err
	}
	defer unlock()
	if c.Init {
		// A node's kubeconfig left by an earlier tug up from this dir.
		if err := os.Remove(c.conf(KubeletConf)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the stale node kubeconfig: %w", err)
		}
	}
	if err := c.writeMode(c.verb()); err != nil {
		return err
	}
	if !c.Init {
		if err := stopStaleContainerd(c); err != nil {
			return err
		}
	}
	if err := pki.WriteFile(c.pidFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	defer os.Remove(c.pidFile())
	if err := writeCredentials(c); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	comps := c.components()
	for i := 0; i < len(comps); {
		// A First component runs alone until ready; the ones after it start together.
		batch := []Component{comps[i]}
		for i++; !batch[0].First && i < len(comps) && !comps[i].First; i++ {
			batch = append(batch, comps[i])
		}
		var wg sync.WaitGroup
		for _, comp := range batch {
			wg.Add(1)
			var once sync.Once
			ready := func() { once.Do(wg.Done) }
			g.Go(func() error {
				defer ready()
				if err := comp.Run(gctx, c, ready, log.Named(comp.Name)); err != nil {
					return fmt.Errorf("%s: %w", comp.Name, err)
				}
				if gctx.Err() == nil {
					return fmt.Errorf("%s stopped", comp.Name)
				}
				return nil
			})
			log.Info("component started", zap.String("component", comp.Name))
		}
		if batch[0].First {
			wg.Wait()
			if gctx.Err() != nil {
				break
			}
			if batch[0].Name == "apiserver" {
				if err := serving(gctx, c, log); err != nil {
					cancel()
					return errors.Join(err, g.Wait())
				}
			}
		}
	}
	err = g.Wait()
	if parent.Err() != nil {
		log.Info("cluster stopped")
		return nil
	}
	return err
}

// serving is what follows the apiserver's start: the user's kubeconfig
// and the bootstrap token with its join line.
func serving(ctx context.Context, c Config, log *zap.Logger) error {
	if err := mergeUserKubeconfig(c); err != nil {
		return err
	}
	line, err := bootstrap(ctx, c, log.Named("bootstrap"))
	if err != nil {
		return err
	}
	if c.OnJoinCommand != nil {
		c.OnJoinCommand(line)
	}
	return nil
}
