package command

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/cluster"
)

// newInit is kubeadm's init: the control plane on this machine, on TLS,
// with a bootstrap token and the join line; "tug init phase" runs its
// steps alone.
func newInit(env *Env) *cobra.Command {
	cc := &clusterCommand{c: cluster.DefaultConfig()}
	cc.c.Init = true
	c := &cc.c
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start a control plane on this machine and print the command other nodes join with",
		Long: `Start a control plane on this machine in one background process: the
cluster CA and certificates under <data-dir>/pki (tug init phase certs),
each component's kubeconfig with its own identity (tug init phase
kubeconfig), an embedded etcd and the apiserver on TLS (Node,RBAC
authorisation, bootstrap tokens, audit log), the scheduler and the
controller-manager (which signs nodes' certificates with the CA). It
merges the admin kubeconfig (<data-dir>/admin.conf) into --kubeconfig as
context "tugboat", publishes the cluster-info ConfigMap, creates a
bootstrap token living --token-ttl and prints the join line:

  tug join <host>:<port> --token <token> --discovery-token-ca-cert-hash sha256:<hash>

No kubelet runs here: nodes join with that line. "tug down" stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			took, join, err := cc.run(cmd, env, "init")
			if err != nil || cc.foreground {
				return err
			}
			fmt.Fprintf(env.Out, `Your Tugboat control plane is up (%.1fs).
  kubeconfig: %s (context %s)
  admin:      %s (the same credentials)
  logs:       %s/tug.log

Nodes join by running this on each, as root (the token lasts %s; tug token create --print-join-command makes another):

%s
`, took.Seconds(), c.Kubeconfig, c.ContextName, c.AdminKubeconfig(), c.DataDir, tokenLife(cmd.Context(), *c, join, time.Now().Add(-took)), join)
			return nil
		},
	}
	cc.addFlags(cmd.Flags())
	cmd.AddCommand(newInitPhase(env))
	return cmd
}

// ttlText says how long a token lives.
func ttlText(ttl time.Duration) string {
	if ttl == 0 {
		return "forever"
	}
	return ttl.String()
}

func newInitPhase(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phase",
		Short: "Run one step of tug init: certs or kubeconfig",
	}
	co := cluster.CertsOptions{}
	certs := &cobra.Command{
		Use:   "certs",
		Short: "Create the cluster CA, the apiserver's certificates and the service-account key in --cert-dir",
		Long: `Create (or keep, when they are there and still fit) what the apiserver's
--cert-dir holds: ca.crt/ca.key, apiserver.crt/.key (serving: localhost,
127.0.0.1, the kubernetes Service's IP and names, this host's name and
addresses, --apiserver-advertise-address, --apiserver-cert-extra-sans),
apiserver-kubelet-client.crt/.key (CN kube-apiserver-kubelet-client, O
system:masters) and sa.key. Keys are 0600, the directory 0700. An
apiserver started with the same --cert-dir uses them.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if _, err := cluster.Certs(co); err != nil {
				return err
			}
			fmt.Fprintf(env.Out, "[certs] the cluster CA, apiserver, apiserver-kubelet-client and sa.key are in %s\n", co.CertDir)
			return nil
		},
	}
	f := certs.Flags()
	f.StringVar(&co.CertDir, "cert-dir", "", "directory of the certificates and keys (created 0700)")
	f.StringVar(&co.AdvertiseAddress, "apiserver-advertise-address", "", "the IP other nodes reach the apiserver at (added to its certificate)")
	f.StringSliceVar(&co.ExtraSANs, "apiserver-cert-extra-sans", nil, "more DNS names or IPs of the apiserver's certificate")
	_ = certs.MarkFlagRequired("cert-dir")

	var ko cluster.KubeconfigOptions
	var node string
	kubeconfig := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Write each component's kubeconfig, with its own client certificate, into --out",
		Long: `Write into --out, each 0600 with the CA and a client certificate of the
CA in --cert-dir embedded, reaching --server: admin.conf (kubernetes-admin,
system:masters), scheduler.conf (system:kube-scheduler),
controller-manager.conf (system:kube-controller-manager), proxy.conf
(system:kube-proxy), dns.conf (system:kube-dns) and, with --node-name,
kubelet.conf (system:node:<name>, system:nodes). A file that already has
a valid certificate of this CA for the same user and server, and that
neither group nor others may read, is kept; any other is reissued.

With --split each goes into a directory of its component's own, to be
mounted into that component alone: <out>/admin/kubeconfig,
<out>/scheduler/kubeconfig, <out>/controller-manager/kubeconfig,
<out>/proxy/kubeconfig, <out>/dns/kubeconfig, <out>/kubelet/kubeconfig
(directories 0700). --signing-ca also copies the CA's ca.crt and ca.key
(0600) into <out>/controller-manager/, which signs approved node CSRs.`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			paths, err := cluster.WriteKubeconfigs(ko, cluster.Identities(node))
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Fprintf(env.Out, "[kubeconfig] %s\n", p)
			}
			return nil
		},
	}
	f = kubeconfig.Flags()
	f.StringVar(&ko.CertDir, "cert-dir", "", "directory of the cluster CA (tug init phase certs)")
	f.StringVar(&ko.Server, "server", "", "the apiserver's URL, https://HOST:PORT")
	f.StringVar(&ko.OutDir, "out", "", "directory the kubeconfig files are written to")
	f.StringVar(&node, "node-name", "", "also write kubelet.conf for this node")
	f.BoolVar(&ko.Split, "split", false, "write each kubeconfig as <out>/<component>/kubeconfig, one directory per component")
	f.BoolVar(&ko.SigningCA, "signing-ca", false, "with --split, also copy ca.crt and ca.key into <out>/controller-manager/ (its CSR signer)")
	for _, name := range []string{"cert-dir", "server", "out"} {
		_ = kubeconfig.MarkFlagRequired(name)
	}
	cmd.AddCommand(certs, kubeconfig)
	return cmd
}
