// Package job is the Job controller: it runs a Job's pods, at most
// parallelism at a time, until completions of them have succeeded
// (Complete), or until more than backoffLimit have failed or
// activeDeadlineSeconds has passed (Failed, its running pods deleted). A
// failed pod is replaced after a back-off: 10 s, doubling per failure.
// Finished pods are kept, for their logs.
package job

import (
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/record"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/labels"
)

// Name names the controller in metrics, Events and --controllers.
const Name = "job"

// Controller is the Job controller.
type Controller struct {
	*controller.Loop
	cs     *clientset.Set
	jobs   informer.Lister[*batchv1.Job]
	pods   informer.Lister[*corev1.Pod]
	events *record.Recorder
	exp    *controller.Expectations
	log    *zap.Logger
	now    func() time.Time
	// backoff is the delay before replacing the first failed pod.
	backoff time.Duration
}

// New returns the controller, fed by the Job and Pod informers. backoff
// is the delay before a failed pod is replaced, doubling per failure
// (DefaultBackoff when 0; tests shorten it).
func New(cs *clientset.Set, jobs *informer.Informer[*batchv1.Job], pods *informer.Informer[*corev1.Pod], backoff time.Duration,
	events *record.Recorder, m *controller.Metrics, log *zap.Logger) (*Controller, error) {
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	c := &Controller{cs: cs, jobs: jobs.Lister(), pods: pods.Lister(), events: events, exp: controller.NewExpectations(), log: log, now: time.Now, backoff: backoff}
	loop, err := controller.NewLoop(Name, c.sync, m, log)
	if err != nil {
		return nil, err
	}
	c.Loop = loop
	enqueue := func(j *batchv1.Job) { c.Enqueue(controller.Key(j.GetMetadata())) }
	jobs.AddHandler(informer.HandlerFuncs[*batchv1.Job]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, j *batchv1.Job) { enqueue(j) },
		DeleteFunc: func(j *batchv1.Job) { c.exp.Forget(controller.Key(j.GetMetadata())) },
	})
	pods.AddHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc: func(p *corev1.Pod) { c.podChanged(p, true, false) },
		UpdateFunc: func(old, p *corev1.Pod) {
			c.podChanged(p, false, p.GetMetadata().GetDeletionTimestamp() != nil && old.GetMetadata().GetDeletionTimestamp() == nil)
		},
		DeleteFunc: func(p *corev1.Pod) { c.podChanged(p, false, true) },
	})
	return c, nil
}

func (c *Controller) podChanged(p *corev1.Pod, added, deleted bool) {
	ref := controller.ControllerRef(p.GetMetadata())
	if ref == nil || ref.GetKind() != "Job" {
		return
	}
	key := p.GetMetadata().GetNamespace() + "/" + ref.GetName()
	if added {
		c.exp.CreationObserved(key)
	}
	if deleted {
		c.exp.DeletionObserved(key, p.GetMetadata().GetUid())
	}
	c.Enqueue(key)
}

// owned returns the pods of j: its controller reference and selector.
func (c *Controller) owned(j *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := selector.FromLabelSelector(j.GetSpec().GetSelector())
	if err != nil {
		return nil, fmt.Errorf("job %s: selector: %w", j.GetMetadata().GetName(), err)
	}
	var out []*corev1.Pod
	for _, p := range c.pods.ListNamespace(j.GetMetadata().GetNamespace(), nil) {
		ref := controller.ControllerRef(p.GetMetadata())
		if ref != nil && ref.GetUid() == j.GetMetadata().GetUid() && sel.Matches(labels.Set(p.GetMetadata().GetLabels())) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Finished reports whether a Job has its Complete or Failed condition,
// and which.
func Finished(j *batchv1.Job) (bool, string) {
	for _, c := range j.GetStatus().GetConditions() {
		if (c.GetType() == "Complete" || c.GetType() == "Failed") && c.GetStatus() == "True" {
			return true, c.GetType()
		}
	}
	return false, ""
}
