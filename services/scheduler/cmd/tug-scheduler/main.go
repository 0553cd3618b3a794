// Command tug-scheduler is Tugboat's scheduler: it binds pending pods to
// nodes that fit them, through the apiserver's pods/binding subresource.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/scheduler/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-scheduler", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("scheduler")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-scheduler:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("scheduler failed", zap.Error(err))
		os.Exit(1)
	}
}
