package command

import (
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tugboat-sh/tugboat/cli/cluster"
	"github.com/tugboat-sh/tugboat/component/logging"
)

// joinSecretFlags are not passed to the background process: it needs
// only the bootstrap kubeconfig tug join wrote (and a token on a command
// line is visible to every user of the machine).
var joinSecretFlags = map[string]bool{"token": true, "discovery-token-ca-cert-hash": true}

// newJoin is kubeadm join: token discovery of the cluster CA, then a
// kubelet (TLS bootstrap with the token) and the proxy in the background.
func newJoin(env *Env) *cobra.Command {
	j := cluster.DefaultJoinConfig()
	var foreground bool
	var logOpts logging.Options
	cmd := &cobra.Command{
		Use:   "join <host>:<port> --token <id>.<secret> --discovery-token-ca-cert-hash sha256:<hex>",
		Short: "Join this machine to a cluster as a node (root), with the line tug init printed",
		Long: `Join this machine to a cluster as a node, as kubeadm join does. tug join
fetches the cluster's CA from the apiserver anonymously, checks it against
--discovery-token-ca-cert-hash and the cluster-info signature of the token
before it trusts anything or sends the token, writes
<data-dir>/bootstrap-kubeconfig (the token and that one CA) and starts, in
one background process, a kubelet with a containerd of its own and the
proxy. The kubelet requests its client certificate with the token
(system:node:<node-name>, approved and signed by the controller-manager),
writes <data-dir>/kubelet.conf, and registers the Node; tug join returns
once it is Ready. "tug down --data-dir <data-dir>" stops the node.`,
		Example: `  tug join 192.168.1.10:6443 --token abcdef.0123456789abcdef \
      --discovery-token-ca-cert-hash sha256:1234...cdef`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if foreground {
				log, err := logOpts.New("tug")
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
				defer stop()
				return cluster.RunJoin(ctx, j, log)
			}
			if len(args) == 1 {
				j.Endpoint = args[0]
			}
			if _, err := j.Validate(); err != nil {
				return err
			}
			if j.NodeIP == "" {
				ip, err := cluster.LocalIPToward(j.Endpoint)
				if err != nil {
					return err
				}
				j.NodeIP = ip
			}
			if _, err := cluster.Join(cmd.Context(), j); err != nil {
				return err
			}
			fmt.Fprintf(env.Out, "The cluster CA at %s matches the hash; bootstrap kubeconfig written to %s.\n", j.Endpoint, j.BootstrapKubeconfig())
			// The background process gets this one's flags but the token
			// and the hash, and the node IP found above.
			bg := []string{"join", "--foreground", "--node-ip=" + j.NodeIP}
			visit := func(f *pflag.Flag) {
				if !joinSecretFlags[f.Name] && f.Name != "node-ip" {
					bg = append(bg, "--"+f.Name+"="+f.Value.String())
				}
			}
			cmd.Flags().Visit(visit)
			cmd.InheritedFlags().Visit(visit)
			took, err := cluster.StartJoined(cmd.Context(), j, bg)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Out, `Node %s joined the cluster at %s and is Ready (%.1fs).
  node kubeconfig: %s
  logs:            %s/tug.log
On the control plane, "tug get nodes" shows it; "tug down --data-dir %s" here stops it.
`, j.NodeName, j.Endpoint, took.Seconds(), j.KubeletKubeconfig(), j.DataDir, j.DataDir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&j.Token, "token", "", "the bootstrap token, <id>.<secret> (tug init printed it; tug token create makes another)")
	f.StringVar(&j.CAHash, "discovery-token-ca-cert-hash", "", "the cluster CA's public key hash, sha256:<hex>, that pins the cluster")
	f.StringVar(&j.DataDir, "data-dir", j.DataDir, "the node's state: its kubeconfigs, the kubelet's and containerd's data, tug.log and tug.pid")
	f.StringVar(&j.NodeName, "node-name", j.NodeName, "the node's name")
	f.StringVar(&j.NodeIP, "node-ip", "", "the node's InternalIP, where the apiserver reaches the kubelet (default: this host's address toward the apiserver)")
	f.IntVar(&j.KubeletPort, "kubelet-port", j.KubeletPort, "where the kubelet serves logs and exec (TLS)")
	f.StringVar(&j.Images, "images", j.Images, "directory of the image archives (make images)")
	f.StringVar(&j.ContainerdBinary, "containerd-binary", j.ContainerdBinary, "containerd executable (default: containerd on $PATH)")
	f.StringVar(&j.CNIBinDir, "cni-bin-dir", j.CNIBinDir, "directory of the CNI plugins")
	f.DurationVar(&j.Wait, "wait", j.Wait, "how long to wait for discovery, and then for the node to be Ready")
	f.BoolVar(&foreground, "foreground", false, "run the node in this process until SIGTERM or Ctrl-C, logging to standard error (with the bootstrap kubeconfig an earlier tug join wrote)")
	f.StringVar(&logOpts.Level, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&logOpts.Format, "log-format", "console", "log format: json or console")
	return cmd
}
