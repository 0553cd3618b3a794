package integration

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	kubeletapp "github.com/tugboat-sh/tugboat/services/kubelet/app"
	"github.com/tugboat-sh/tugboat/services/kubelet/fakeruntime"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
)

// Images whose hollow containers finish by themselves.
const (
	succeedImage = "tugboat.local/job:ok"
	failImage    = "tugboat.local/job:fail"
)

// jobBackoff is the controller-manager's delay before replacing a failed
// pod in these tests (10 s by default).
const jobBackoff = 2 * time.Second

// startJobCluster runs hollow nodes whose job images exit: 0 or 1 after
// 300 ms.
func startJobCluster(t *testing.T) *workloadCluster {
	return startWorkloadCluster(t, 3, func(cfg *app.Config) { cfg.JobBackoff = jobBackoff },
		harness.WithRelistPeriod(200*time.Millisecond),
		harness.WithKubeletConfig(func(c *kubeletapp.Config) {
			c.HollowBehaviors = map[string]fakeruntime.Behavior{
				succeedImage: {Exit: true, ExitAfter: 300 * time.Millisecond},
				failImage:    {Exit: true, ExitAfter: 300 * time.Millisecond, ExitCode: 1},
			}
		}))
}

func job(name, image string, completions, parallelism int32) *batchv1.Job {
	return &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &batchv1.JobSpec{
			Completions: proto.Int32(completions), Parallelism: proto.Int32(parallelism),
			Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{RestartPolicy: "Never", Containers: []*corev1.Container{{Name: "work", Image: image}}}},
		},
	}
}

func (c *workloadCluster) waitJob(t *testing.T, name, condition string) *batchv1.Job {
	t.Helper()
	var j *batchv1.Job
	harness.Poll(t, 2*waitTimeout, "job "+name+" is "+condition, func() (bool, string) {
		var err error
		j, err = c.api.Client.Jobs().Get(harness.Context(t, waitTimeout), &metav1.GetOptions{Namespace: "default", Name: name})
		if err != nil {
			return false, err.Error()
		}
		for _, cond := range j.GetStatus().GetConditions() {
			if cond.GetType() == condition && cond.GetStatus() == "True" {
				return true, ""
			}
		}
		return false, j.GetStatus().String()
	})
	return j
}

// TestJobCompletionsParallelism: completions 3, parallelism 2 completes
// with 3 succeeded pods, never more than 2 running at once, and keeps the
// pods.
func TestJobCompletionsParallelism(t *testing.T) {
	c := startJobCluster(t)
	var mu sync.Mutex
	peak := 0
	pods := podCache(t, c.cluster, "default", func(l informer.Lister[*corev1.Pod]) {
		n := countPods(l.ListNamespace("default", nil), "")
		mu.Lock()
		peak = max(peak, n.active)
		mu.Unlock()
	})
	if _, err := c.api.Client.Jobs().Create(harness.Context(t, waitTimeout), job("three", succeedImage, 3, 2)); err != nil {
		t.Fatal(err)
	}
	j := c.waitJob(t, "three", "Complete")
	st := j.GetStatus()
	if st.GetSucceeded() != 3 || st.GetFailed() != 0 || st.GetActive() != 0 || st.GetStartTime() == nil || st.GetCompletionTime() == nil {
		t.Fatalf("complete job status = %v, want 3 succeeded, start and completion times", st)
	}
	succeeded := 0
	for _, p := range pods.Lister().ListNamespace("default", nil) {
		if p.GetStatus().GetPhase() == "Succeeded" {
			succeeded++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if succeeded != 3 || peak > 2 || peak == 0 {
		t.Fatalf("%d succeeded pods kept (want 3); at most %d ran at once (want 1..2)", succeeded, peak)
	}
}

// TestJobFailures: a job whose pods fail stops after backoffLimit+1
// failures, and a job past its activeDeadlineSeconds fails and has its
// running pods deleted.
func TestJobFailures(t *testing.T) {
	c := startJobCluster(t)
	ctx := harness.Context(t, waitTimeout)
	bad := job("bad", failImage, 1, 1)
	bad.Spec.BackoffLimit = proto.Int32(1)
	if _, err := c.api.Client.Jobs().Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	j := c.waitJob(t, "bad", "Failed")
	if st := j.GetStatus(); st.GetFailed() != 2 || st.GetConditions()[0].GetReason() != "BackoffLimitExceeded" {
		t.Fatalf("failed job status = %v, want 2 failed, BackoffLimitExceeded", st)
	}
	// The second pod was created only after the back-off from the first
	// failure (timestamps are whole seconds).
	l, err := c.api.Client.Pods().List(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: "job-name=bad"})
	if err != nil || len(l.GetItems()) != 2 {
		t.Fatalf("bad job pods = %d, %v; want 2 kept", len(l.GetItems()), err)
	}
	first, second := l.GetItems()[0], l.GetItems()[1]
	if second.GetMetadata().GetCreationTimestamp().AsTime().Before(first.GetMetadata().GetCreationTimestamp().AsTime()) {
		first, second = second, first
	}
	finished := first.GetStatus().GetContainerStatuses()[0].GetState().GetTerminated().GetFinishedAt().AsTime()
	if gap := second.GetMetadata().GetCreationTimestamp().AsTime().Sub(finished); gap < jobBackoff-time.Second {
		t.Fatalf("second pod created %v after the first failed, want about the %v back-off", gap, jobBackoff)
	}

	slow := job("slow", hollowImage, 1, 1)
	slow.Spec.ActiveDeadlineSeconds = proto.Int32(1)
	if _, err := c.api.Client.Jobs().Create(ctx, slow); err != nil {
		t.Fatal(err)
	}
	j = c.waitJob(t, "slow", "Failed")
	if r := j.GetStatus().GetConditions()[0].GetReason(); r != "DeadlineExceeded" {
		t.Fatalf("slow job failed with %q, want DeadlineExceeded", r)
	}
	harness.Poll(t, waitTimeout, "the slow job's pod is gone", func() (bool, string) {
		l, err := c.api.Client.Pods().List(ctx, &metav1.ListOptions{Namespace: "default", LabelSelector: "job-name=slow"})
		if err != nil {
			return false, err.Error()
		}
		return len(l.GetItems()) == 0, fmt.Sprintf("%d pods", len(l.GetItems()))
	})
}
