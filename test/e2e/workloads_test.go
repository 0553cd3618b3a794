//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/rollout"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	batchv1 "github.com/tugboat-sh/tugboat/gen/tugboat/batch/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// workloadNamespace is a namespace for one test that is deleted, with
// everything in it, when the test ends (the namespace controller does it).
func workloadNamespace(t *testing.T) string {
	t.Helper()
	ns := namespace(t)
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := cluster.CS.Namespaces().Delete(ctx, &metav1.DeleteOptions{Name: ns}); err != nil {
			t.Errorf("delete namespace %s: %v", ns, err)
			return
		}
		if err := poll(90*time.Second, func() error {
			_, err := cluster.CS.Namespaces().Get(ctx, &metav1.GetOptions{Name: ns})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return fmt.Errorf("namespace %s still there: %v", ns, err)
		}); err != nil {
			t.Error(err)
		}
	})
	return ns
}

// seedObject reads a manifest of seed 004 into obj, with the project's
// images in its pod template.
func seedObject(t *testing.T, file string, obj proto.Message, spec func() *corev1.PodSpec) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cluster.Root, "machinery/manifest/testdata/seed004", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.DecodeInto(data, obj); err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	for _, c := range spec().GetContainers() {
		if img, ok := seedImages[c.GetImage()]; ok {
			c.Image = img
		}
	}
}

// runningPods lists the namespace's Running and ready pods with a label.
func runningPods(t *testing.T, ns, selector string) []*corev1.Pod {
	t.Helper()
	l, err := cluster.CS.Pods().List(context.Background(), &metav1.ListOptions{Namespace: ns, LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Pod
	for _, p := range l.GetItems() {
		if p.GetMetadata().GetDeletionTimestamp() == nil && running(p) {
			out = append(out, p)
		}
	}
	return out
}

// TestReplicaSetX is seed 004's replicaset-x: 3 pods, then scaled to 1.
func TestReplicaSetX(t *testing.T) {
	ns := workloadNamespace(t)
	ctx := context.Background()
	rs := &appsv1.ReplicaSet{}
	seedObject(t, "replicaset-x.yaml", rs, func() *corev1.PodSpec { return rs.GetSpec().GetTemplate().GetSpec() })
	rs.Metadata.Namespace = ns
	if _, err := cluster.CS.ReplicaSets().Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	waitReplicas := func(n int) {
		t.Helper()
		if err := poll(120*time.Second, func() error {
			got, err := cluster.CS.ReplicaSets().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "replicaset-x"})
			if err != nil {
				return err
			}
			pods := runningPods(t, ns, "app=replicaset-x")
			if len(pods) != n || got.GetStatus().GetReadyReplicas() != int32(n) {
				return fmt.Errorf("%d running pods, status %v; want %d", len(pods), got.GetStatus(), n)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitReplicas(3)
	if _, err := cluster.CS.ReplicaSets().UpdateScale(ctx, &appsv1.Scale{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: "replicaset-x"}, Spec: &appsv1.ScaleSpec{Replicas: 1}}); err != nil {
		t.Fatalf("scale to 1: %v", err)
	}
	waitReplicas(1)
}

// info asks a sise pod's /info from inside its container.
func info(t *testing.T, ns, pod string) string {
	t.Helper()
	out, stderr, code := execIn(t, ns, pod, "sise", "wget", "-qO-", "http://localhost:9876/info")
	if code != 0 {
		t.Fatalf("wget /info in %s: exit %d: %s", pod, code, stderr)
	}
	var v struct{ Version string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("/info of %s answered %q: %v", pod, out, err)
	}
	return v.Version
}

// TestDeployment09 is seed 004's deployment-09: version 0.9, then 1.0 by
// applying the edited manifest, /info answers 1.0; undo, and it answers
// 0.9 again.
func TestDeployment09(t *testing.T) {
	ns := workloadNamespace(t)
	ctx := context.Background()
	apply := func(file string) {
		t.Helper()
		d := &appsv1.Deployment{}
		seedObject(t, file, d, func() *corev1.PodSpec { return d.GetSpec().GetTemplate().GetSpec() })
		d.Metadata.Namespace = ns
		cur, err := cluster.CS.Deployments().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "deployment-09"})
		switch {
		case status.Code(err) == codes.NotFound:
			_, err = cluster.CS.Deployments().Create(ctx, d)
		case err == nil:
			d.Metadata.ResourceVersion = cur.GetMetadata().GetResourceVersion()
			_, err = cluster.CS.Deployments().Update(ctx, d)
		}
		if err != nil {
			t.Fatalf("apply %s: %v", file, err)
		}
	}
	waitVersion := func(want string) {
		t.Helper()
		var last string
		if err := poll(180*time.Second, func() error {
			d, err := cluster.CS.Deployments().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "deployment-09"})
			if err != nil {
				return err
			}
			st := d.GetStatus()
			pods := runningPods(t, ns, "app=sise")
			if st.GetUpdatedReplicas() != 2 || st.GetAvailableReplicas() != 2 || st.GetReplicas() != 2 || len(pods) != 2 {
				return fmt.Errorf("status %v, %d running pods", st, len(pods))
			}
			for _, p := range pods {
				if last = info(t, ns, p.GetMetadata().GetName()); last != want {
					return fmt.Errorf("pod %s answers version %q", p.GetMetadata().GetName(), last)
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("deployment-09 at version %s: %v", want, err)
		}
	}
	apply("deployment-09-v0.9.yaml")
	waitVersion("0.9")
	apply("deployment-09-v1.0.yaml")
	waitVersion("1.0")
	res, err := rollout.Undo(ctx, cluster.CS, ns, "deployment-09", 0)
	if err != nil || res.Revision != 1 {
		t.Fatalf("undo = %+v, %v; want back to revision 1", res, err)
	}
	waitVersion("0.9")
	h, err := rollout.History(ctx, cluster.CS, ns, "deployment-09")
	if err != nil || len(h) != 2 || h[0].Number != 2 || h[1].Number != 3 {
		t.Fatalf("history after undo = %+v, %v; want revisions 2 and 3", h, err)
	}
}

// TestCountdownJob is seed 004's countdown Job: it completes and its pod's
// log counts 9 down to 1.
func TestCountdownJob(t *testing.T) {
	ns := workloadNamespace(t)
	ctx := context.Background()
	j := &batchv1.Job{}
	seedObject(t, "job.yaml", j, func() *corev1.PodSpec { return j.GetSpec().GetTemplate().GetSpec() })
	j.Metadata.Namespace = ns
	if _, err := cluster.CS.Jobs().Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := poll(120*time.Second, func() error {
		got, err := cluster.CS.Jobs().Get(ctx, &metav1.GetOptions{Namespace: ns, Name: "countdown"})
		if err != nil {
			return err
		}
		for _, c := range got.GetStatus().GetConditions() {
			if c.GetType() == "Complete" && c.GetStatus() == "True" && got.GetStatus().GetSucceeded() == 1 {
				return nil
			}
		}
		return fmt.Errorf("job status %v", got.GetStatus())
	}); err != nil {
		t.Fatal(err)
	}
	l, err := cluster.CS.Pods().List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: "job-name=countdown"})
	if err != nil || len(l.GetItems()) != 1 {
		t.Fatalf("countdown pods = %d, %v; want the one pod kept", len(l.GetItems()), err)
	}
	p := l.GetItems()[0]
	if p.GetStatus().GetPhase() != "Succeeded" {
		t.Fatalf("countdown pod phase %s, want Succeeded", p.GetStatus().GetPhase())
	}
	got := logs(t, &corev1.PodLogOptions{Namespace: ns, Name: p.GetMetadata().GetName(), Container: "counter"})
	if want := "9\n8\n7\n6\n5\n4\n3\n2\n1\n"; got != want {
		t.Fatalf("countdown log = %q, want %q", got, want)
	}
}
