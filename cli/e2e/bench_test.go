//go:build e2e

package e2e

import (
	"os"
	"regexp"
	"testing"
	"time"
)

// BenchmarkUp times tug up from the command to the node Ready (what tug
// up waits for before it returns), on a fresh data dir each time; tug
// down --purge between runs is not timed. Root, real containerd.
func BenchmarkUp(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		_ = os.RemoveAll(c.dataDir)
		b.StartTimer()
		start := time.Now()
		out, err := runTug(c.upArgs()...)
		took := time.Since(start)
		b.StopTimer()
		if err != nil || !regexp.MustCompile(`node \S+ is Ready`).Match(out) {
			b.Fatalf("tug up: %v\n%s", err, out)
		}
		total += took
		if out, err := runTug("down", "--data-dir", c.dataDir, "--purge"); err != nil {
			b.Fatalf("tug down: %v\n%s", err, out)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/up")
}
