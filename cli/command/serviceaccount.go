package command

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// newCreateServiceAccount is kubectl's "create serviceaccount NAME".
func newCreateServiceAccount(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "serviceaccount NAME",
		Aliases: []string{"sa"},
		Short:   "Create a service account",
		Example: `  tug create serviceaccount builder -n team-a`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createObject(cmd.Context(), env, &corev1.ServiceAccount{ApiVersion: "v1", Kind: "ServiceAccount", Metadata: &metav1.ObjectMeta{Name: args[0]}})
		},
	}
}

// tokenRequestOptions are create token's flags.
type tokenRequestOptions struct {
	duration  time.Duration
	audiences []string
}

// newCreateToken is kubectl's "create token SERVICEACCOUNT": a TokenRequest
// for the account, printing the signed token alone.
func newCreateToken(env *Env) *cobra.Command {
	o := &tokenRequestOptions{}
	cmd := &cobra.Command{
		Use:   "token SERVICEACCOUNT [--duration=DURATION] [--audience=AUDIENCE]",
		Short: "Request a service account token",
		Example: `  tug create token builder -n team-a
  tug create token builder --duration 10m --audience https://vault.example.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreateToken(cmd.Context(), env, o, args[0])
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.duration, "duration", 0, "how long the token is valid, at least 10m (0: the apiserver's default, an hour)")
	f.StringArrayVar(&o.audiences, "audience", nil, "an audience of the token (repeatable; default the apiserver's own)")
	return cmd
}

func runCreateToken(ctx context.Context, env *Env, o *tokenRequestOptions, name string) error {
	if o.duration < 0 {
		return fmt.Errorf("--duration must be positive, not %s", o.duration)
	}
	if o.duration%time.Second != 0 {
		return fmt.Errorf("--duration %s is not a whole number of seconds", o.duration)
	}
	for _, a := range o.audiences {
		if a == "" {
			return fmt.Errorf("--audience may not be empty")
		}
	}
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	req := &corev1.TokenRequest{
		ApiVersion: "authentication.k8s.io/v1", Kind: "TokenRequest",
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &corev1.TokenRequestSpec{Audiences: o.audiences},
	}
	if o.duration > 0 {
		secs := o.duration / time.Second
		if secs > 1<<31-1 {
			return fmt.Errorf("--duration %s is too long", o.duration)
		}
		req.Spec.ExpirationSeconds = new(int32)
		*req.Spec.ExpirationSeconds = int32(secs)
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	out, err := corev1.NewServiceAccountServiceClient(conn).CreateToken(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Out, out.GetStatus().GetToken())
	return nil
}
