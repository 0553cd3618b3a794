// Command tug is Tugboat's command line: kubectl's verbs over gRPC, and
// "tug up"/"tug down" for a one-node cluster on this machine.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tugboat-sh/tugboat/cli/command"
)

func main() {
	// Ctrl-C ends a watch, a followed log or an exec cleanly (a terminal
	// left raw by exec -t is restored).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
