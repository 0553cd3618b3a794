package command

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tugboat-sh/tugboat/cli/cluster"
	"github.com/tugboat-sh/tugboat/component/logging"
)

func clusterFlags(fs *pflag.FlagSet, c *cluster.Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "the cluster's state: etcd's data, the kubelet's, tug.log and tug.pid")
}

// clusterCommand is what tug up and tug init share: the flags, the
// foreground run and the background start.
type clusterCommand struct {
	c          cluster.Config
	foreground bool
	logOpts    logging.Options
}

func (cc *clusterCommand) addFlags(f *pflag.FlagSet) {
	c := &cc.c
	clusterFlags(f, c)
	f.StringVar(&c.ListenAddress, "listen-address", c.ListenAddress, "the apiserver's address (gRPC and REST over TLS)")
	f.StringVar(&c.AdvertiseAddress, "advertise-address", c.AdvertiseAddress, "the IP other nodes reach the apiserver at (join line, cluster-info, admin kubeconfig; default: the listen address's, and for 0.0.0.0 or :: this host's address on the default route)")
	f.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "how long the bootstrap token of the join line is valid (0: it never expires)")
	f.DurationVar(&c.Wait, "wait", c.Wait, "how long to wait for the cluster to come up")
	f.BoolVar(&cc.foreground, "foreground", false, "run the cluster in this process until SIGTERM or Ctrl-C, logging to standard error")
	f.StringVar(&cc.logOpts.Level, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&cc.logOpts.Format, "log-format", "console", "log format: json or console")
}

// run runs the cluster in the foreground, or starts "tug <verb>
// --foreground" with the same flags in the background and waits for it.
func (cc *clusterCommand) run(cmd *cobra.Command, env *Env, verb string) (time.Duration, string, error) {
	c := &cc.c
	if env.Kubeconfig != "" {
		c.Kubeconfig = env.Kubeconfig
	}
	if c.TokenTTL < 0 {
		return 0, "", fmt.Errorf("--token-ttl %s: must not be negative (0 means the token never expires)", c.TokenTTL)
	}
	if cc.foreground {
		log, err := cc.logOpts.New("tug")
		if err != nil {
			return 0, "", err
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if os.Getenv(cluster.BackgroundEnv) == "" {
			c.OnJoinCommand = func(line string) { fmt.Fprintln(env.Out, line) }
		}
		return 0, "", cluster.Run(ctx, *c, log)
	}
	// The background process gets the flags this one was given.
	args := []string{verb, "--foreground"}
	visit := func(f *pflag.Flag) { args = append(args, "--"+f.Name+"="+f.Value.String()) }
	cmd.Flags().Visit(visit)
	cmd.InheritedFlags().Visit(visit)
	return cluster.Start(cmd.Context(), *c, args)
}

func newUp(env *Env) *cobra.Command {
	cc := &clusterCommand{c: cluster.DefaultConfig()}
	c := &cc.c
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a one-node cluster on this machine (root) and write its kubeconfig",
		Long: `Start a one-node cluster on this machine in one background process: what
tug init runs (the cluster CA and certificates under <data-dir>/pki, an
embedded etcd and the apiserver on TLS, the scheduler and the
controller-manager, each with its own client certificate) plus the proxy,
the cluster DNS and a kubelet with a containerd of its own that gets the
project's images from --images. It merges the admin kubeconfig into
--kubeconfig (context "tugboat"), waits until the node is Ready and says
what to type next. "tug down" stops it and removes its containers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			took, join, err := cc.run(cmd, env, "up")
			if err != nil || cc.foreground {
				return err
			}
			printNextSteps(cmd.Context(), env, *c, took, join)
			return nil
		},
	}
	f := cmd.Flags()
	cc.addFlags(f)
	f.StringVar(&c.NodeName, "node-name", c.NodeName, "the node's name")
	f.IntVar(&c.KubeletPort, "kubelet-port", c.KubeletPort, "where the kubelet serves logs and exec (TLS)")
	f.StringVar(&c.Images, "images", c.Images, "directory of the image archives (make images)")
	f.StringVar(&c.ContainerdBinary, "containerd-binary", c.ContainerdBinary, "containerd executable (default: containerd on $PATH)")
	f.StringVar(&c.CNIBinDir, "cni-bin-dir", c.CNIBinDir, "directory of the CNI plugins")
	return cmd
}

// tokenLife says how long the join line's token has left: the whole
// --token-ttl for one made by this start (at started), less for one a
// restart reused.
func tokenLife(ctx context.Context, c cluster.Config, join string, started time.Time) string {
	created, expires, err := cluster.TokenExpires(ctx, c, join)
	if err != nil {
		return ttlText(c.TokenTTL)
	}
	return lifeText(c.TokenTTL, created, expires, started, time.Now())
}

// lifeText is tokenLife's text for a token made at created, expiring at
// expires (zero: never), seen at now by a start that began at started.
func lifeText(ttl time.Duration, created, expires, started, now time.Time) string {
	switch {
	case expires.IsZero():
		return "forever"
	case !created.Before(started.Truncate(time.Second)):
		return ttlText(ttl)
	}
	return expires.Sub(now).Round(time.Second).String() + ", reused from the last start"
}

func printNextSteps(ctx context.Context, env *Env, c cluster.Config, took time.Duration, join string) {
	fmt.Fprintf(env.Out, `Tugboat is up: node %s is Ready (%.1fs).
  kubeconfig: %s (context %s)
  admin:      %s (the same credentials)
  logs:       %s/tug.log

Another node joins with (the token lasts %s; tug token create --print-join-command makes another):
%s

Next:
  tug get nodes
  tug run first-pod --image=tugboat.local/sise:0.5.0 --port=9876
  tug get pods -o wide
  tug exec first-pod -- wget -qO- http://localhost:9876/info
  tug down          # stop the cluster and remove its containers
`, c.NodeName, took.Seconds(), c.Kubeconfig, c.ContextName, c.AdminKubeconfig(), c.DataDir, tokenLife(ctx, c, join, time.Now().Add(-took)), join)
}

func newDown(env *Env) *cobra.Command {
	c := cluster.DefaultConfig()
	var purge bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the local cluster and remove its containers, sandboxes, network namespaces and routes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Geteuid() != 0 {
				return fmt.Errorf("tug down must run as root: it removes containers and network set-up; run it with sudo")
			}
			log, closeLog, err := cluster.FileLogger(c)
			if err != nil {
				return err
			}
			defer closeLog()
			mode := c.Mode() // before --purge removes the data dir
			node := c.RunsNode()
			if mode == "" {
				mode = cluster.ModeUp
			}
			stopped, err := cluster.Down(cmd.Context(), c, purge, log)
			if err != nil {
				return err
			}
			switch {
			case stopped && !node:
				fmt.Fprintln(env.Out, "Tugboat's control plane stopped.")
			case stopped:
				fmt.Fprintln(env.Out, "Tugboat stopped; its containers, sandboxes, network namespaces and routes are removed.")
			default:
				fmt.Fprintln(env.Out, "No Tugboat cluster was running; what one left behind is removed.")
			}
			if purge {
				fmt.Fprintf(env.Out, "Its data (%s) is deleted.\n", c.DataDir)
			} else if mode == cluster.ModeJoin {
				fmt.Fprintf(env.Out, "Its credentials are kept in %s: \"tug join --foreground --data-dir %s\" runs the node again (tug down --purge deletes them).\n", c.DataDir, c.DataDir)
			} else {
				fmt.Fprintf(env.Out, "Its objects are kept in %s: tug %s brings them back (tug down --purge deletes them).\n", c.DataDir, mode)
			}
			return nil
		},
	}
	clusterFlags(cmd.Flags(), &c)
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the cluster's data (etcd: every object)")
	return cmd
}
