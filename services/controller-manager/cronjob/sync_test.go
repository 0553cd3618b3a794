package cronjob

import (
	"sync"
	"testing"
	"time"

	cronjobs "github.com/tugboat-sh/tugboat/client/cronjob"
	"github.com/tugboat-sh/tugboat/client/informer"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"google.golang.org/protobuf/proto"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// With concurrencyPolicy Forbid, a time that comes while a Job is active
// is not recorded as scheduled: it starts once that Job finishes, within
// startingDeadlineSeconds.
func TestForbidStartsTheSkippedTimeOnceTheActiveJobFinishes(t *testing.T) {
	env := testenv.Start(t)
	clock := &fakeClock{now: at("2026-01-01T10:05:20Z")}
	cj, err := env.Srv.CronJobs.Create(&batchv1.CronJob{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "tick"},
		Spec: &batchv1.CronJobSpec{Schedule: "*/5 * * * *", ConcurrencyPolicy: "Forbid", StartingDeadlineSeconds: proto.Int32(200),
			SuccessfulJobsHistoryLimit: proto.Int32(3), FailedJobsHistoryLimit: proto.Int32(1),
			JobTemplate: &batchv1.JobTemplateSpec{Spec: &batchv1.JobSpec{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cj.Status = &batchv1.CronJobStatus{LastScheduleTime: timestampAt("2026-01-01T10:00:00Z")}
	if cj, err = env.Srv.CronJobs.Update(cj); err != nil {
		t.Fatal(err)
	}
	running := cronjobs.Job(cj, JobName(cj, at("2026-01-01T10:00:00Z")), at("2026-01-01T10:00:00Z"))
	if _, err := env.Srv.Jobs.Create(running); err != nil {
		t.Fatal(err)
	}
	cjInf := informer.New(env.CS.CronJobs(), informer.Options{})
	jobInf := informer.New(env.CS.Jobs(), informer.Options{})
	c, err := New(env.CS, cjInf, jobInf, clock.Now, env.Events, env.Metrics, env.Log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, cjInf)
	testenv.Run(t, jobInf)

	key := "default/tick"
	if err := c.sync(env.Ctx, key); err != nil {
		t.Fatal(err)
	}
	skipped := JobName(cj, at("2026-01-01T10:05:00Z"))
	if _, err := env.Srv.Jobs.Get("default", skipped); err == nil {
		t.Fatal("Forbid started a second Job while one was active")
	}
	got, _ := env.Srv.CronJobs.Get("default", "tick")
	if last := got.GetStatus().GetLastScheduleTime().AsTime(); !last.Equal(at("2026-01-01T10:00:00Z")) {
		t.Fatalf("the skipped 10:05 moved lastScheduleTime to %v; want it kept at 10:00", last)
	}

	// The active Job completes at 10:06; the 10:05 run is within the
	// 200 s starting deadline, and starts.
	done, _ := env.Srv.Jobs.Get("default", running.GetMetadata().GetName())
	done.Status = &batchv1.JobStatus{Conditions: []*batchv1.JobCondition{{Type: "Complete", Status: "True"}}, CompletionTime: timestampAt("2026-01-01T10:06:00Z")}
	if _, err := env.Srv.Jobs.Update(done); err != nil {
		t.Fatal(err)
	}
	clock.Set(at("2026-01-01T10:06:00Z"))
	testenv.Eventually(t, "the Job's completion is in the cache", func() bool {
		j, _ := c.jobs.Get("default", running.GetMetadata().GetName())
		ok, _ := finished(j)
		return ok
	})
	testenv.Eventually(t, "the CronJob's status is in the cache", func() bool {
		cur, _ := c.cjs.Get("default", "tick")
		return cur.GetStatus().GetLastScheduleTime() != nil
	})
	if err := c.sync(env.Ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Srv.Jobs.Get("default", skipped); err != nil {
		t.Fatalf("the 10:05 run did not start once the active Job finished: %v", err)
	}
	got, _ = env.Srv.CronJobs.Get("default", "tick")
	if last := got.GetStatus().GetLastScheduleTime().AsTime(); !last.Equal(at("2026-01-01T10:05:00Z")) {
		t.Fatalf("lastScheduleTime = %v, want 10:05", last)
	}
}
