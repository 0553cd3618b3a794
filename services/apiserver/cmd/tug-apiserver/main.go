// Command tug-apiserver is Tugboat's API server: the only component that
// talks to etcd, serving gRPC and Kubernetes-style REST on one port.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/apiserver/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-apiserver", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("apiserver")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-apiserver:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("apiserver failed", zap.Error(err))
		os.Exit(1)
	}
}
