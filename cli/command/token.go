package command

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/cluster"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/pki"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/bootstraptoken"
	"k8s.io/apimachinery/pkg/util/duration"
)

type tokenCreateOptions struct {
	ttl              time.Duration
	description      string
	usages, groups   []string
	printJoinCommand bool
}

// newToken is kubeadm's token verb: bootstrap tokens, stored as
// bootstrap-token-<id> Secrets in kube-system, that let a new node join.
func newToken(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage bootstrap tokens, with which new nodes join the cluster",
	}
	o := &tokenCreateOptions{}
	create := &cobra.Command{
		Use:   "create [TOKEN]",
		Short: "Create a bootstrap token (random unless given) and print it",
		Example: `  tug token create
  tug token create --ttl 2h --description "for node-3" --print-join-command
  tug token create abcdef.0123456789abcdef --ttl 0`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenCreate(cmd.Context(), env, o, args)
		},
	}
	f := create.Flags()
	f.DurationVar(&o.ttl, "ttl", bootstraptoken.DefaultTTL, "how long the token is valid (0: it never expires)")
	f.StringVar(&o.description, "description", "", "a human-readable description of the token's purpose")
	f.StringSliceVar(&o.usages, "usages", []string{bootstraptoken.UsageSigning, bootstraptoken.UsageAuthentication}, "how the token may be used (signing, authentication)")
	f.StringSliceVar(&o.groups, "groups", []string{bootstraptoken.DefaultNodeGroup}, "extra groups the token authenticates as, each system:bootstrappers:...")
	f.BoolVar(&o.printJoinCommand, "print-join-command", false, "print the whole tug join command instead of the token alone")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the bootstrap tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTokenList(cmd.Context(), env)
		},
	}
	del := &cobra.Command{
		Use:   "delete TOKEN-ID|TOKEN...",
		Short: "Delete bootstrap tokens by id or by the whole token",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenDelete(cmd.Context(), env, args)
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func runTokenCreate(ctx context.Context, env *Env, o *tokenCreateOptions, args []string) error {
	if o.ttl < 0 {
		return fmt.Errorf("--ttl %s: must not be negative (0 means the token never expires)", o.ttl)
	}
	if err := bootstraptoken.ValidateUsages(o.usages); err != nil {
		return fmt.Errorf("--usages: %w", err)
	}
	for _, g := range o.groups {
		if err := bootstraptoken.ValidateGroup(g); err != nil {
			return fmt.Errorf("--groups: %w", err)
		}
	}
	var tok bootstraptoken.Token
	var err error
	if len(args) == 1 {
		if tok, err = bootstraptoken.Parse(args[0]); err != nil {
			return err
		}
	} else if tok, err = bootstraptoken.Generate(); err != nil {
		return err
	}
	var join string
	if o.printJoinCommand {
		// Check the kubeconfig before anything is written.
		if join, err = joinCommand(env, tok); err != nil {
			return err
		}
	}
	ttl := o.ttl
	if ttl == 0 {
		ttl = -1 // New's "never"
	}
	info := bootstraptoken.New(tok, ttl, time.Now(), o.description)
	info.Usages = slices.Clone(o.usages)
	info.ExtraGroups = slices.Clone(o.groups)
	cs, err := typedClient(ctx, env)
	if err != nil {
		return err
	}
	if _, err := cs.Secrets().Create(ctx, info.AsSecret()); err != nil {
		return err
	}
	if join != "" {
		fmt.Fprintln(env.Out, join)
		return nil
	}
	fmt.Fprintln(env.Out, tok.String())
	return nil
}

// joinCommand is the tug join line for tok, from the kubeconfig's server
// and certificate authority.
func joinCommand(env *Env, tok bootstraptoken.Token) (string, error) {
	cfg, err := env.Config()
	if err != nil {
		return "", err
	}
	target, secure, err := config.Target(cfg.Server)
	if err != nil {
		return "", err
	}
	if !secure || len(cfg.CAData) == 0 {
		return "", fmt.Errorf("--print-join-command: the kubeconfig's cluster %s has no certificate authority (an https server with certificate-authority data), so there is no CA hash to print", cfg.Server)
	}
	certs, err := pki.ParseCerts(cfg.CAData)
	if err != nil {
		return "", fmt.Errorf("--print-join-command: the kubeconfig's certificate authority: %w", err)
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		return "", err
	}
	return cluster.JoinCommand(target, tok, certs[0]), nil
}

func runTokenList(ctx context.Context, env *Env) error {
	cs, err := typedClient(ctx, env)
	if err != nil {
		return err
	}
	list, err := cs.Secrets().List(ctx, &metav1.ListOptions{Namespace: bootstraptoken.Namespace})
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.Out, 10, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS")
	for _, s := range list.GetItems() {
		if s.GetType() != bootstraptoken.SecretType {
			continue
		}
		info, err := bootstraptoken.FromSecret(s)
		if err != nil {
			fmt.Fprintf(env.Err, "error: skipping %s: %v\n", s.GetMetadata().GetName(), err)
			continue
		}
		ttl, expires := "<forever>", "<never>"
		if !info.Expires.IsZero() {
			expires = info.Expires.UTC().Format(time.RFC3339)
			if left := info.Expires.Sub(now); left > 0 {
				ttl = duration.ShortHumanDuration(left)
			} else {
				ttl = "<invalid>"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", info.Token, ttl, expires,
			orNone(strings.Join(info.Usages, ",")), orNone(info.Description), orNone(strings.Join(info.ExtraGroups, ",")))
	}
	return tw.Flush()
}

func runTokenDelete(ctx context.Context, env *Env, args []string) error {
	ids := make([]string, 0, len(args))
	for _, a := range args {
		id := a
		if strings.Contains(a, ".") {
			tok, err := bootstraptoken.Parse(a)
			if err != nil {
				return err
			}
			id = tok.ID
		} else if !bootstraptoken.ValidID(a) {
			return fmt.Errorf("token id %q is malformed: it must match [a-z0-9]{6} (or give the whole token [a-z0-9]{6}.[a-z0-9]{16})", a)
		}
		ids = append(ids, id)
	}
	cs, err := typedClient(ctx, env)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := cs.Secrets().Delete(ctx, &metav1.DeleteOptions{Namespace: bootstraptoken.Namespace, Name: bootstraptoken.SecretName(id)}); err != nil {
			return err
		}
		fmt.Fprintf(env.Out, "bootstrap token %q deleted\n", id)
	}
	return nil
}

func typedClient(ctx context.Context, env *Env) (*clientset.Set, error) {
	conn, err := env.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return clientset.New(conn), nil
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
