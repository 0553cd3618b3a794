// Package cronjob is the CronJob controller: it starts a Job from a
// CronJob's template at each time of its schedule (five cron fields or
// @hourly style, in its time zone), within startingDeadlineSeconds,
// honouring suspend and the concurrency policy (Allow, Forbid, Replace),
// tracks the active Jobs and deletes finished ones beyond the history
// limits. Its clock is injectable, so timing is tested with a fake one.
package cronjob

import (
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"github.com/tugboat-sh/tugboat/services/controller-manager/job"
	"go.uber.org/zap"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "cronjob"

// Controller is the CronJob controller.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	cjs    informer.Lister[*batchv1.CronJob]
	jobs   informer.Lister[*batchv1.Job]
	events *record.Recorder
	log    *zap.Logger
	now    func() time.Time
}

// New returns the controller, fed by the CronJob and Job informers; now
// is its clock (time.Now when nil).
func New(cs *clientset.Set, cjs *informer.Informer[*batchv1.CronJob], jobs *informer.Informer[*batchv1.Job],
	now func() time.Time, events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if now == nil {
		now = time.Now
	}
	c := &Controller{cs: cs, cjs: cjs.Lister(), jobs: jobs.Lister(), events: events, log: log, now: now}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(cj *batchv1.CronJob) { c.Enqueue(controller.Key(cj.GetMetadata())) }
	cjs.AddHandler(informer.HandlerFuncs[*batchv1.CronJob]{AddFunc: enqueue, UpdateFunc: func(_, cj *batchv1.CronJob) { enqueue(cj) }})
	jobChanged := func(j *batchv1.Job) {
		if r := controller.ControllerRef(j.GetMetadata()); r != nil && r.GetKind() == "CronJob" {
			c.Enqueue(j.GetMetadata().GetNamespace() + "/" + r.GetName())
		}
	}
	jobs.AddHandler(informer.HandlerFuncs[*batchv1.Job]{AddFunc: jobChanged, UpdateFunc: func(_, j *batchv1.Job) { jobChanged(j) }, DeleteFunc: jobChanged})
	return c, nil
}

// owned returns the Jobs cj started.
func (c *Controller) owned(cj *batchv1.CronJob) []*batchv1.Job {
	var out []*batchv1.Job
	for _, j := range c.jobs.ListNamespace(cj.GetMetadata().GetNamespace(), nil) {
		if r := controller.ControllerRef(j.GetMetadata()); r != nil && r.GetUid() == cj.GetMetadata().GetUid() {
			out = append(out, j)
		}
	}
	return out
}

// JobName is the name of the Job started for schedule time t: the
// CronJob's name and the minutes since the epoch, so that one time starts
// one Job however often it is synced.
func JobName(cj *batchv1.CronJob, t time.Time) string {
	return fmt.Sprintf("%s-%d", cj.GetMetadata().GetName(), t.Unix()/60)
}

func ref(cj *batchv1.CronJob) *corev1.ObjectReference {
	m := cj.GetMetadata()
	return &corev1.ObjectReference{ApiVersion: "batch/v1", Kind: "CronJob", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}

func jobRef(j *batchv1.Job) *corev1.ObjectReference {
	m := j.GetMetadata()
	return &corev1.ObjectReference{ApiVersion: "batch/v1", Kind: "Job", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(), ResourceVersion: m.GetResourceVersion()}
}

// finished reports whether j has its Complete or Failed condition, and
// whether it succeeded.
func finished(j *batchv1.Job) (done, succeeded bool) {
	done, typ := job.Finished(j)
	return done, typ == "Complete"
}
