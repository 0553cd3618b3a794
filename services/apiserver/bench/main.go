// Command bench measures the apiserver against its datastore and writes
// BENCHMARKS.md. It runs the apiserver in process (app.Run) on an embedded
// etcd, or on an external one with -etcd-servers, and measures in one run:
//
//   - pod creates/s over gRPC at 16 and 64 concurrent clients, against raw
//     etcd Puts of the same stored bytes at the same concurrency;
//   - GET of one pod and LIST of 1,000 and 10,000 pods (gRPC, and REST JSON
//     for 1,000), against raw etcd reads of the same keys;
//   - watch delivery latency with 100 watchers while pods are created at
//     100/s, against raw etcd watches of puts at the same rate.
//
// Every figure that has a baseline is reported as a ratio to it, beside the
// reference figures of real Kubernetes measured on the same kind of machine
// (docs: DESIGN.md, "Reference figures"). Run it with `make bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"
)

// options are the knobs of one run.
type options struct {
	out         string
	duration    time.Duration // each create throughput phase
	readTime    time.Duration // budget of each read measurement
	quick       bool
	etcdServers []string
	noFsync     bool
	cpuProfile  string
	// securityOnly measures only the security comparison (for repeated
	// runs of it); it prints the table and writes no report.
	securityOnly bool

	clients       []int // concurrencies of the create phases
	listSizes     []int // pods per LIST measurement (the first is also listed over REST)
	watchers      int
	watchRate     int // creates/s during the watch measurement
	watchDuration time.Duration
	args          []string // as given, for the report
}

func defaultOptions() options {
	return options{
		out:           "",
		duration:      5 * time.Second,
		readTime:      3 * time.Second,
		clients:       []int{16, 64},
		listSizes:     []int{1000, 10000},
		watchers:      100,
		watchRate:     100,
		watchDuration: 5 * time.Second,
	}
}

// quickOptions shrink a run to a smoke test of a few seconds.
func (o *options) applyQuick() {
	o.duration = 300 * time.Millisecond
	o.readTime = 200 * time.Millisecond
	o.clients = []int{2, 4}
	o.listSizes = []int{20, 50}
	o.watchers = 4
	o.watchRate = 50
	o.watchDuration = 500 * time.Millisecond
}

func main() {
	o := defaultOptions()
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.StringVar(&o.out, "out", "", "write the report (markdown) to this file; stdout always gets the table")
	fs.DurationVar(&o.duration, "duration", o.duration, "length of each create throughput phase")
	fs.BoolVar(&o.quick, "quick", false, "a short run with small sizes, for smoke testing")
	fs.Func("etcd-servers", "comma-separated external etcd endpoints (default: embedded etcd in a temp dir)", func(s string) error {
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				o.etcdServers = append(o.etcdServers, e)
			}
		}
		return nil
	})
	fs.BoolVar(&o.noFsync, "no-fsync", false, "disable fsync in the embedded etcd (not what users get)")
	fs.BoolVar(&o.securityOnly, "security-only", false, "measure only the security comparison (TLS + Node,RBAC against --insecure) and print its rows; no -out")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the apiserver pod-create phases to this file (with -security-only: <file>.insecure and <file>.secure, one per side)")
	_ = fs.Parse(os.Args[1:])
	o.args = os.Args[1:]
	if o.securityOnly && o.out != "" {
		fmt.Fprintln(os.Stderr, "bench: -security-only writes no report: drop -out")
		os.Exit(2)
	}
	if o.quick {
		d := o.duration
		o.applyQuick()
		if flagSet(fs, "duration") {
			o.duration = d
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(res.table())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(res.markdown()+keptSections(o.out)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "bench: wrote", o.out)
	}
}

// keepMarker starts the part of the report file that other benchmarks
// (nodes, scheduler) write; a rewrite keeps it.
const keepMarker = "<!-- sections below are written by other benchmarks; bench -out keeps them -->"

// keptSections returns the marker and what follows it in the existing file.
func keptSections(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(data), keepMarker); i >= 0 {
		return "\n" + string(data[i:])
	}
	return ""
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
