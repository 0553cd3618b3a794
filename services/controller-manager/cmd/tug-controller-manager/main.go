// Command tug-controller-manager is Tugboat's controller-manager: the
// control loops that bring ReplicaSets, Deployments, Jobs, CronJobs,
// namespaces, owned objects and nodes to their desired state.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-controller-manager", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("controller-manager")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-controller-manager:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("controller-manager failed", zap.Error(err))
		os.Exit(1)
	}
}
