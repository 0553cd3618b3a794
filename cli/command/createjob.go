package command

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/cronjob"
)

// newCreateJob is "create job NAME --from=cronjob/NAME": a run of a
// CronJob's job template by hand, through client/cronjob.
func newCreateJob(env *Env) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:     "job NAME --from=cronjob/NAME",
		Short:   "Create a job from a cron job's template, now",
		Example: `  tug create job countdown-now --from=cronjob/countdown`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			typ, name, ok := strings.Cut(from, "/")
			if !ok || name == "" {
				return errors.New("--from=cronjob/NAME is required: the cron job whose template the job runs")
			}
			if k, err := lookup(typ); err != nil || k.Kind != "CronJob" {
				return fmt.Errorf("--from=%s: a job is created from a cronjob only (--from=cronjob/NAME)", from)
			}
			ns, _, err := env.NS()
			if err != nil {
				return err
			}
			conn, err := env.Conn(cmd.Context())
			if err != nil {
				return err
			}
			job, err := cronjob.CreateJob(cmd.Context(), clientset.New(conn), ns, name, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Out, "job.batch/%s created\n", job.GetMetadata().GetName())
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the cron job to run: cronjob/NAME")
	return cmd
}
