package job

import (
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/fake"
	"github.com/tugboat-sh/tugboat/client/informer"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/controller"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// newTest returns a Job controller over a fake apiserver holding objs'
// job and pods, with its informers synced (the loop is not run: the test
// calls sync).
func newTest(t *testing.T, j *batchv1.Job, pods ...*corev1.Pod) (*testenv.Env, *Controller) {
	t.Helper()
	env := testenv.Start(t)
	j, err := env.Srv.Jobs.Create(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		p.Metadata.OwnerReferences = []*metav1.OwnerReference{controller.NewControllerRef(j.GetMetadata(), "batch/v1", "Job")}
		if _, err := env.Srv.Pods.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	jobs := informer.New(env.CS.Jobs(), informer.Options{})
	podInf := informer.New(env.CS.Pods(), informer.Options{})
	c, err := New(env.CS, jobs, podInf, 0, env.Events, env.Metrics, env.Log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, jobs)
	testenv.Run(t, podInf)
	return env, c
}

func testJob(backoffLimit int32) *batchv1.Job {
	sel := map[string]string{"job": "j"}
	return &batchv1.Job{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "j"},
		Spec: &batchv1.JobSpec{
			Selector:    &metav1.LabelSelector{MatchLabels: sel},
			Parallelism: proto.Int32(2), Completions: proto.Int32(2), BackoffLimit: proto.Int32(backoffLimit),
			Template: &corev1.PodTemplateSpec{Metadata: &metav1.ObjectMeta{Labels: sel}, Spec: &corev1.PodSpec{}},
		},
	}
}

func testPod(name, phase string) *corev1.Pod {
	return &corev1.Pod{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"job": "j"}},
		Spec:     &corev1.PodSpec{NodeName: "n"},
		Status:   &corev1.PodStatus{Phase: phase},
	}
}

// A Job that failed while deleting its running pods failed keeps deleting
// them on later syncs, though its Failed condition is already written.
func TestFailedJobDeletesActivePodsAfterDeleteError(t *testing.T) {
	env, c := newTest(t, testJob(0), testPod("failed", "Failed"), testPod("running", "Running"))
	env.Srv.Pods.Fail(fake.OpDelete, status.Error(codes.Unavailable, "injected"))
	if err := c.sync(env.Ctx, "default/j"); err == nil {
		t.Fatal("sync with a failing pod delete returned no error")
	}
	testenv.Eventually(t, "the Job's Failed condition is in the cache", func() bool {
		j, _ := c.jobs.Get("default", "j")
		done, typ := Finished(j)
		return done && typ == "Failed"
	})
	if _, err := env.Srv.Pods.Get("default", "running"); err != nil {
		t.Fatalf("the running pod should still exist after the failed delete: %v", err)
	}
	env.Srv.Pods.Fail(fake.OpDelete, nil)
	// The expectations of the failed delete were lowered; sync again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.sync(env.Ctx, "default/j"); err != nil {
			t.Fatalf("sync after the apiserver healed: %v", err)
		}
		if _, err := env.Srv.Pods.Get("default", "running"); status.Code(err) == codes.NotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running pod of the Failed Job was never deleted: it leaks")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := env.Srv.Pods.Get("default", "failed"); err != nil {
		t.Fatalf("the failed pod must be kept for its logs: %v", err)
	}
}
