// Command tug-healthcheck exits 0 when a component's health URL answers 200
// OK and 1 (with the reason on stderr) otherwise. The container images carry
// it for docker and docker-compose health checks:
//
//	tug-healthcheck [--timeout 3s] http://127.0.0.1:10259/readyz
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tugboat-sh/tugboat/component/healthcheck"
)

func main() {
	fs := flag.NewFlagSet("tug-healthcheck", flag.ExitOnError)
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tug-healthcheck [--timeout 3s] URL")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if err := healthcheck.Probe(context.Background(), fs.Arg(0), *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "tug-healthcheck:", err)
		os.Exit(1)
	}
}
