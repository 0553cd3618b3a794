// Command tug-kubelet is Tugboat's node agent: it runs the pods bound to its
// node through a CRI runtime and reports their status.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/kubelet/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-kubelet", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("kubelet")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-kubelet:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("kubelet failed", zap.Error(err))
		os.Exit(1)
	}
}
