package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/tugboat-sh/tugboat/client/config"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// Run runs the cluster in this process until ctx ends or a component
// fails: it locks the data dir (a second Run on it fails at once, before
// touching anything of the first), writes the pid file, starts the components in order (the
// later ones once the first is ready), writes the kubeconfigs, and on the
// way out stops them all and removes the pid file. What the pods run
// keeps running in containerd's shims until tug down.
func Run(parent context.Context, c Config, log *zap.Logger) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := lockDataDir(c)
	if err != nil {
		return err
	}
	defer unlock()
	if err := stopStaleContainerd(c); err != nil {
		return err
	}
	if err := os.WriteFile(c.pidFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	defer os.Remove(c.pidFile())

	g, gctx := errgroup.WithContext(ctx)
	comps := Components()
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
				if err := writeKubeconfigs(c); err != nil {
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

// writeKubeconfigs writes the components' kubeconfig and merges the
// cluster's context into the user's.
func writeKubeconfigs(c Config) error {
	server := "http://" + c.ListenAddress
	if err := config.Write(c.internalConfig(), config.KubeconfigSpec{ContextName: c.ContextName, Server: server}); err != nil {
		return err
	}
	return Merge(c.Kubeconfig, c.ContextName, server)
}
