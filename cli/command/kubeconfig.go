package command

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/cluster"
	"github.com/tugboat-sh/tugboat/component/pki"
)

// newKubeconfig is kubeadm's "kubeconfig user": a kubeconfig with a
// client certificate for any user, signed by the cluster CA.
func newKubeconfig(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Make kubeconfig files for users",
	}
	var name, certDir, server string
	var orgs []string
	user := &cobra.Command{
		Use:   "user",
		Short: "Print a kubeconfig for a user, with a client certificate signed by the cluster CA",
		Example: `  tug kubeconfig user --client-name jane --cert-dir /var/lib/tugboat/pki --server https://127.0.0.1:6443 > jane.conf
  tug kubeconfig user --client-name ops --org ops-team --cert-dir /var/lib/tugboat/pki --server https://10.0.0.1:6443`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if name == "" {
				return fmt.Errorf("--client-name: a user name is required")
			}
			ca, err := pki.Dir(certDir).Load(pki.CAName)
			if err != nil {
				return fmt.Errorf("the cluster CA in --cert-dir %s: %w", certDir, err)
			}
			b, err := cluster.UserKubeconfigYAML((*pki.CA)(ca), server, name, orgs)
			if err != nil {
				return err
			}
			_, err = env.Out.Write(b)
			return err
		},
	}
	f := user.Flags()
	f.StringVar(&name, "client-name", "", "the user (the certificate's CN)")
	f.StringSliceVar(&orgs, "org", nil, "a group of the user (the certificate's O); repeat for more")
	f.StringVar(&certDir, "cert-dir", "/var/lib/tugboat/pki", "directory of the cluster CA")
	f.StringVar(&server, "server", "", "the apiserver's URL, https://HOST:PORT")
	_ = user.MarkFlagRequired("client-name")
	_ = user.MarkFlagRequired("server")
	cmd.AddCommand(user)
	return cmd
}
