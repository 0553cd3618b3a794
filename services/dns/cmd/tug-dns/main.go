// Command tug-dns is Tugboat's cluster DNS server: it answers
// <service>.<namespace>.svc.<domain> and the other Kubernetes DNS names
// from the Services and Endpoints it watches, and forwards the rest.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/dns/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-dns", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("dns")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-dns:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("dns failed", zap.Error(err))
		os.Exit(1)
	}
}
