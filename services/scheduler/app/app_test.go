package app

import (
	"flag"
	"strings"
	"testing"
	"time"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/scheduler/framework"
	f "github.com/tugboat-sh/tugboat/services/scheduler/internal/fixture"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddress != "127.0.0.1:10259" || cfg.SchedulerName != "default-scheduler" || cfg.LeaderElect ||
		cfg.LeaseNamespace != "kube-system" || cfg.LeaseName != "tug-scheduler" || cfg.Parallelism != 16 {
		t.Fatalf("defaults = %+v", cfg)
	}
	if err := fs.Parse([]string{"--kubeconfig=/k", "--scheduler-name=mine", "--leader-elect", "--parallelism=4", "--metrics-address="}); err != nil {
		t.Fatal(err)
	}
	if cfg.Kubeconfig != "/k" || cfg.SchedulerName != "mine" || !cfg.LeaderElect || cfg.Parallelism != 4 || cfg.MetricsAddress != "" {
		t.Fatalf("parsed = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no scheduler name", func(c *Config) { c.SchedulerName = "" }, "--scheduler-name"},
		{"no parallelism", func(c *Config) { c.Parallelism = 0 }, "--parallelism"},
		{"percentage above 100", func(c *Config) { c.PercentageOfNodesToScore = 101 }, "--percentage-of-nodes-to-score"},
		{"leader election without a lease", func(c *Config) { c.LeaderElect, c.LeaseName = true, "" }, "--leader-elect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestDefaultProfileBuilds(t *testing.T) {
	filters, scores, err := defaultProfile.build(registry)
	if err != nil {
		t.Fatal(err)
	}
	if len(filters) != len(defaultProfile.filters) || len(scores) != len(defaultProfile.scores) {
		t.Fatalf("%d filters, %d scores", len(filters), len(scores))
	}
	// A plugin serving two extension points is built once.
	shared := map[framework.Plugin]bool{}
	for _, f := range filters {
		shared[f] = true
	}
	n := 0
	for _, s := range scores {
		if shared[s.Plugin] {
			n++
		}
	}
	if n != 2 { // TaintToleration and NodeAffinity
		t.Fatalf("%d score plugins are the filter instances, want 2", n)
	}
}

func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    profile
		want string
	}{
		{"unknown plugin", profile{filters: []string{"Nope"}}, `plugin "Nope" is not registered`},
		{"score plugin as a filter", profile{filters: []string{"NodeResourcesLeastAllocated"}}, "not a filter plugin"},
		{"filter plugin as a score", profile{scores: []weighted{{"NodePorts", 1}}}, "not a score plugin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.p.build(registry); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("build = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSchedulingChanged(t *testing.T) {
	base := f.Node("n")
	heartbeat := proto.Clone(base).(*corev1.Node)
	heartbeat.Status.Conditions[0].LastHeartbeatTime = timestamppb.Now()
	for _, tc := range []struct {
		name string
		node *corev1.Node
		want bool
	}{
		{"heartbeat only", heartbeat, false},
		{"label added", f.Node("n", f.Labels("disk", "ssd")), true},
		{"taint added", f.Node("n", f.Taint("k", "v", "NoSchedule")), true},
		{"cordoned", f.Node("n", f.Unschedulable()), true},
		{"allocatable changed", f.Node("n", f.Allocatable("8", "16Gi", 110)), true},
		{"no longer ready", f.Node("n", f.Ready("False")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := schedulingChanged(base, tc.node); got != tc.want {
				t.Fatalf("schedulingChanged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnschedulableCondition(t *testing.T) {
	pod := f.Pod("ns", "p")
	if !conditionDiffers(pod, "m1") {
		t.Fatal("a pod without the condition does not differ")
	}
	t0 := time.Unix(1000, 0)
	setCondition(pod, "m1", t0)
	if conditionDiffers(pod, "m1") {
		t.Fatal("the condition just set differs")
	}
	if !conditionDiffers(pod, "m2") {
		t.Fatal("a new message does not differ")
	}
	setCondition(pod, "m2", t0.Add(time.Minute))
	conds := pod.GetStatus().GetConditions()
	if len(conds) != 1 || conds[0].GetMessage() != "m2" || conds[0].GetReason() != "Unschedulable" || conds[0].GetStatus() != "False" {
		t.Fatalf("conditions = %v", conds)
	}
	if !conds[0].GetLastTransitionTime().AsTime().Equal(t0) {
		t.Fatalf("lastTransitionTime moved to %v though the status stayed False", conds[0].GetLastTransitionTime().AsTime())
	}
}
