package command

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/cli/describe"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/rollout"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// newRollout is "rollout status|history|undo|pause|resume|restart" for
// deployments, through client/rollout.
func newRollout(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of a deployment: status, history, undo, pause, resume, restart",
		Example: `  tug rollout status deployment/deployment-09
  tug rollout history deployment deployment-09
  tug rollout undo deployment deployment-09 --to-revision=1`,
		Args: cobra.NoArgs,
	}
	var timeout time.Duration
	var revision int64
	var watch bool
	status := &cobra.Command{
		Use:   "status TYPE NAME | TYPE/NAME",
		Short: "Show the status of a rollout, and wait until it is done",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachDeployment(cmd.Context(), env, args, func(ctx context.Context, cs *clientset.Set, ns, name string) error {
				return rolloutStatus(ctx, env, cs, ns, name, revision, watch, timeout)
			})
		},
	}
	status.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait before giving up (0: forever)")
	status.Flags().Int64Var(&revision, "revision", 0, "the revision whose rollout to follow (0: the current one)")
	status.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout is done")

	var showRevision int64
	history := &cobra.Command{
		Use:   "history TYPE NAME | TYPE/NAME",
		Short: "Show the revisions of a deployment",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachDeployment(cmd.Context(), env, args, func(ctx context.Context, cs *clientset.Set, ns, name string) error {
				return rolloutHistory(ctx, env, cs, ns, name, showRevision)
			})
		},
	}
	history.Flags().Int64Var(&showRevision, "revision", 0, "show the pod template of this revision")

	var toRevision int64
	undo := &cobra.Command{
		Use:   "undo TYPE NAME | TYPE/NAME [--to-revision=N]",
		Short: "Roll a deployment back to its previous revision, or to --to-revision",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachDeployment(cmd.Context(), env, args, func(ctx context.Context, cs *clientset.Set, ns, name string) error {
				return rolloutUndo(ctx, env, cs, ns, name, toRevision)
			})
		},
	}
	undo.Flags().Int64Var(&toRevision, "to-revision", 0, "the revision to roll back to (0: the previous one)")

	simple := func(use, short, done string, fn func(context.Context, *clientset.Set, string, string) error) *cobra.Command {
		return &cobra.Command{
			Use: use + " TYPE NAME | TYPE/NAME", Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return eachDeployment(cmd.Context(), env, args, func(ctx context.Context, cs *clientset.Set, ns, name string) error {
					if err := fn(ctx, cs, ns, name); err != nil {
						return err
					}
					fmt.Fprintf(env.Out, "deployment.apps/%s %s\n", name, done)
					return nil
				})
			},
		}
	}
	cmd.AddCommand(status, history, undo,
		simple("pause", "Stop a deployment's rollouts until it is resumed", "paused", rollout.Pause),
		simple("resume", "Let a paused deployment roll out again", "resumed", rollout.Resume),
		simple("restart", "Replace every pod of a deployment, one rollout", "restarted",
			func(ctx context.Context, cs *clientset.Set, ns, name string) error {
				return rollout.Restart(ctx, cs, ns, name, time.Now())
			}))
	for _, sub := range cmd.Commands() {
		sub.ValidArgs = []string{"deployment"} // completion of TYPE
	}
	return cmd
}

// eachDeployment runs fn for every deployment args name; other kinds
// are an error, and one deployment's failure does not stop the others.
func eachDeployment(ctx context.Context, env *Env, args []string, fn func(context.Context, *clientset.Set, string, string) error) error {
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.kind.Kind != "Deployment" {
			return fmt.Errorf("rollout works on deployments, not %s", t.kind.Resource)
		}
		if len(t.names) == 0 {
			return errors.New("give the name of the deployment: TYPE NAME or TYPE/NAME")
		}
	}
	ns, _, err := env.NS()
	if err != nil {
		return err
	}
	conn, err := env.Conn(ctx)
	if err != nil {
		return err
	}
	cs := clientset.New(conn)
	var failed []error
	for _, t := range targets {
		for _, name := range t.names {
			if err := fn(ctx, cs, ns, name); err != nil {
				failed = append(failed, err)
			}
		}
	}
	return reportAll(env, failed)
}

func rolloutStatus(ctx context.Context, env *Env, cs *clientset.Set, ns, name string, revision int64, watch bool, timeout time.Duration) error {
	if !watch {
		d, err := cs.Deployments().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: name})
		if err != nil {
			return err
		}
		msg, _, err := rollout.Status(d, revision)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Out, msg)
		return nil
	}
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err := rollout.Wait(wctx, cs, ns, name, revision, env.Out)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("timed out waiting for the rollout of deployment %q after %v", name, timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	}
	return err
}

func rolloutHistory(ctx context.Context, env *Env, cs *clientset.Set, ns, name string, revision int64) error {
	revs, err := rollout.History(ctx, cs, ns, name)
	if err != nil {
		return err
	}
	if revision > 0 {
		for _, r := range revs {
			if r.Number == revision {
				fmt.Fprintf(env.Out, "deployment.apps/%s with revision #%d\n", name, revision)
				return describe.PodTemplate(env.Out, r.Template)
			}
		}
		return fmt.Errorf("unable to find the specified revision %d of deployment %q", revision, name)
	}
	fmt.Fprintf(env.Out, "deployment.apps/%s\n", name)
	tw := tabwriter.NewWriter(env.Out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
	for _, r := range revs {
		cause := r.ChangeCause
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r.Number, cause)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.Out)
	return nil
}

func rolloutUndo(ctx context.Context, env *Env, cs *clientset.Set, ns, name string, toRevision int64) error {
	res, err := rollout.Undo(ctx, cs, ns, name, toRevision)
	switch {
	case errors.Is(err, rollout.ErrRevisionNotFound) && toRevision != 0:
		return fmt.Errorf("unable to find the specified revision %d in the history of deployment %q", toRevision, name)
	case errors.Is(err, rollout.ErrRevisionNotFound):
		return fmt.Errorf("deployment %q has no revision before its current one to roll back to", name)
	case errors.Is(err, rollout.ErrPaused):
		return fmt.Errorf("deployment %q is paused and cannot be rolled back; resume it first with \"tug rollout resume deployment/%s\"", name, name)
	case err != nil:
		return err
	case res.Skipped:
		fmt.Fprintf(env.Out, "%s/%s skipped rollback (current template already matches revision %d)\n", "deployment.apps", name, res.Revision)
	default:
		fmt.Fprintf(env.Out, "%s/%s rolled back\n", "deployment.apps", name)
	}
	return nil
}
