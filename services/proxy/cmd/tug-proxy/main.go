// Command tug-proxy is Tugboat's Service proxy: it programs an nftables
// table that DNATs ClusterIPs and NodePorts to ready endpoints and
// rejects what no Service serves. `tug-proxy --cleanup` removes the table.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tugboat-sh/tugboat/component/logging"
	"github.com/tugboat-sh/tugboat/component/signals"
	"github.com/tugboat-sh/tugboat/services/proxy/app"
	"go.uber.org/zap"
)

func main() {
	cfg := app.DefaultConfig()
	var logOpts logging.Options
	fs := flag.NewFlagSet("tug-proxy", flag.ExitOnError)
	cfg.AddFlags(fs)
	logOpts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	log, err := logOpts.New("proxy")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tug-proxy:", err)
		os.Exit(2)
	}
	if err := app.Run(signals.Context(), cfg, log); err != nil {
		log.Error("proxy failed", zap.Error(err))
		os.Exit(1)
	}
}
