// Command tug is Tugboat's command line: kubectl's verbs over gRPC, and
// "tug up"/"tug down" for a one-node cluster on this machine.
package main

import (
	"os"

	"github.com/tugboat-sh/tugboat/cli/command"
)

func main() {
	os.Exit(command.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
