package harness

import (
	"context"
	"testing"
	"time"
)

// pollInterval is the pause between two checks of a condition.
const pollInterval = 20 * time.Millisecond

// Poll calls cond until it reports done, and fails the test when timeout
// passes first, naming what was awaited and cond's last status.
func Poll(t testing.TB, timeout time.Duration, what string, cond func() (done bool, status string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, status := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s; last: %s", timeout, what, status)
		}
		time.Sleep(pollInterval)
	}
}

// Context returns a context for one test step, cancelled on cleanup and
// after timeout.
func Context(t testing.TB, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
