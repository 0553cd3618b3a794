// Command pause is the sandbox process of every pod. It holds the pod's
// namespaces open and does nothing else: it blocks until SIGTERM or SIGINT
// and exits 0, and, being PID 1 when the pod shares its process namespace,
// reaps the zombies of orphaned children on SIGCHLD.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	os.Exit(run(sigs, os.Stderr))
}

// run handles signals until one asks it to stop and returns the exit code.
func run(sigs <-chan os.Signal, log io.Writer) int {
	for sig := range sigs {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		fmt.Fprintf(log, "pause: shutting down, got signal: %v\n", sig)
		return 0
	}
	return 0
}

// reap waits for every child that has exited, without blocking, and returns
// their pids. Several exits may arrive as one SIGCHLD, hence the loop.
func reap() []int {
	var pids []int
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return pids
		}
		pids = append(pids, pid)
	}
}
