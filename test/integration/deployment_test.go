package integration

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tugboat-sh/tugboat/client/informer"
	"github.com/tugboat-sh/tugboat/client/rollout"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/labels"
)

// rolloutCheck records, on every pod watch event, violations of the
// rollout invariant: available >= replicas - maxUnavailable and active <=
// replicas + maxSurge.
type rolloutCheck struct {
	mu         sync.Mutex
	armed      bool
	sel        labels.Selector
	min, max   int
	events     int
	violations []string
}

func (r *rolloutCheck) check(l informer.Lister[*corev1.Pod]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.armed {
		return
	}
	r.events++
	pods := l.ListNamespace("default", r.sel)
	n := countPods(pods, "")
	if n.available < r.min || n.active > r.max {
		byOwner := map[string]int{}
		for _, p := range pods {
			if countPods([]*corev1.Pod{p}, "").active == 1 {
				byOwner[p.GetMetadata().GetOwnerReferences()[0].GetName()]++
			}
		}
		r.violations = append(r.violations, fmt.Sprintf("event %d: %v (allowed: available >= %d, active <= %d); active by owner %v", r.events, n, r.min, r.max, byOwner))
	}
}

func (r *rolloutCheck) arm(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed = on
}

// waitComplete waits until the deployment has rolled out image to all its
// replicas: every pod on it and available, status counters and the
// Progressing condition say so.
func (c *workloadCluster) waitComplete(t *testing.T, pods *informer.Informer[*corev1.Pod], name, image string, replicas int) *appsv1.Deployment {
	t.Helper()
	sel := labels.SelectorFromSet(labels.Set{"app": name})
	var d *appsv1.Deployment
	harness.Poll(t, 2*waitTimeout, fmt.Sprintf("deployment %s has %d available pods of %s", name, replicas, image), func() (bool, string) {
		n := countPods(pods.Lister().ListNamespace("default", sel), image)
		var err error
		d, err = c.api.Client.Deployments().Get(harness.Context(t, waitTimeout), &metav1.GetOptions{Namespace: "default", Name: name})
		if err != nil {
			return false, err.Error()
		}
		st := d.GetStatus()
		p := progressing(d)
		ok := n.active == replicas && n.available == replicas && n.onImage == replicas &&
			st.GetUpdatedReplicas() == int32(replicas) && st.GetAvailableReplicas() == int32(replicas) && st.GetReplicas() == int32(replicas) &&
			st.GetObservedGeneration() == d.GetMetadata().GetGeneration() && p.GetReason() == "NewReplicaSetAvailable"
		return ok, fmt.Sprintf("pods: %v; status %v", n, st)
	})
	return d
}

func progressing(d *appsv1.Deployment) *appsv1.DeploymentCondition {
	for _, c := range d.GetStatus().GetConditions() {
		if c.GetType() == "Progressing" {
			return c
		}
	}
	return nil
}

// setImage updates the deployment's image, reading it again when the
// controller wrote it meanwhile (a conflict).
func (c *workloadCluster) setImage(t *testing.T, name, image string) {
	t.Helper()
	ctx := harness.Context(t, waitTimeout)
	harness.Poll(t, waitTimeout, "deployment "+name+" updated to "+image, func() (bool, string) {
		d, err := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: name})
		if err != nil {
			t.Fatal(err)
		}
		d.Spec.Template.Spec.Containers[0].Image = image
		_, err = c.api.Client.Deployments().Update(ctx, d)
		if status.Code(err) == codes.Aborted {
			return false, err.Error()
		}
		if err != nil {
			t.Fatalf("update deployment %s to %s: %v", name, image, err)
		}
		return true, ""
	})
}

// TestDeploymentRollingUpdateInvariant rolls deployments out with int and
// percent bounds and checks the invariant on every pod watch event.
func TestDeploymentRollingUpdateInvariant(t *testing.T) {
	c := startWorkloadCluster(t, 5, nil)
	for _, tc := range []struct {
		name              string
		replicas          int32
		surge, unavailble *structpb.Value
		min, max          int
	}{
		{"ints", 10, structpb.NewNumberValue(3), structpb.NewNumberValue(2), 8, 13},
		{"percent", 8, nil, nil, 6, 10}, // defaults: 25% each
		{"surge only", 4, structpb.NewNumberValue(1), structpb.NewNumberValue(0), 4, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "roll-" + fmt.Sprint(tc.replicas)
			chk := &rolloutCheck{sel: labels.SelectorFromSet(labels.Set{"app": name}), min: tc.min, max: tc.max}
			pods := podCache(t, c.cluster, "default", chk.check)
			d := deployment(name, tc.replicas, "tugboat.local/app:1")
			if tc.surge != nil {
				d.Spec.Strategy = rollingUpdate(tc.surge, tc.unavailble)
			}
			if _, err := c.api.Client.Deployments().Create(harness.Context(t, waitTimeout), d); err != nil {
				t.Fatalf("create deployment: %v", err)
			}
			c.waitComplete(t, pods, name, "tugboat.local/app:1", int(tc.replicas))
			chk.arm(true)
			c.setImage(t, name, "tugboat.local/app:2")
			got := c.waitComplete(t, pods, name, "tugboat.local/app:2", int(tc.replicas))
			chk.arm(false)
			if chk.events < int(tc.replicas) {
				t.Fatalf("only %d pod events seen during the rollout", chk.events)
			}
			if len(chk.violations) > 0 {
				t.Fatalf("rollout invariant broken %d times over %d events: %v", len(chk.violations), chk.events, chk.violations)
			}
			if rev := got.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "2" {
				t.Fatalf("revision after one update = %q, want 2", rev)
			}
		})
	}
}

// TestDeploymentRecreate never runs old and new pods together.
func TestDeploymentRecreate(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	var mu sync.Mutex
	var mixed []string
	armed := false
	sel := labels.SelectorFromSet(labels.Set{"app": "rec"})
	pods := podCache(t, c.cluster, "default", func(l informer.Lister[*corev1.Pod]) {
		mu.Lock()
		defer mu.Unlock()
		images := map[string]bool{}
		for _, p := range l.ListNamespace("default", sel) {
			if p.GetStatus().GetPhase() != "Succeeded" && p.GetStatus().GetPhase() != "Failed" {
				images[p.GetSpec().GetContainers()[0].GetImage()] = true
			}
		}
		if armed && len(images) > 1 {
			mixed = append(mixed, fmt.Sprint(images))
		}
	})
	d := deployment("rec", 3, "tugboat.local/app:1")
	d.Spec.Strategy = &appsv1.DeploymentStrategy{Type: "Recreate"}
	if _, err := c.api.Client.Deployments().Create(harness.Context(t, waitTimeout), d); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "rec", "tugboat.local/app:1", 3)
	mu.Lock()
	armed = true
	mu.Unlock()
	c.setImage(t, "rec", "tugboat.local/app:2")
	c.waitComplete(t, pods, "rec", "tugboat.local/app:2", 3)
	mu.Lock()
	defer mu.Unlock()
	if len(mixed) > 0 {
		t.Fatalf("old and new pods existed together: %v", mixed)
	}
}

// TestDeploymentUpdateUndo: create (revision 1), update (2), undo (3):
// revision 3 is revision 1's ReplicaSet and template; an undo to a missing
// revision is refused and changes nothing; scaling through the scale
// subresource resizes the current ReplicaSet; pause holds a template
// change back until resume.
func TestDeploymentUpdateUndo(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	ctx := harness.Context(t, 3*waitTimeout)
	pods := podCache(t, c.cluster, "default", nil)
	if _, err := c.api.Client.Deployments().Create(ctx, deployment("web", 2, "tugboat.local/sise:0.9")); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "web", "tugboat.local/sise:0.9", 2)
	h1, err := rollout.History(ctx, c.api.Client, "default", "web")
	if err != nil || len(h1) != 1 || h1[0].Number != 1 {
		t.Fatalf("history after create = %+v, %v; want revision 1", h1, err)
	}
	c.setImage(t, "web", "tugboat.local/sise:1.0")
	c.waitComplete(t, pods, "web", "tugboat.local/sise:1.0", 2)

	res, err := rollout.Undo(ctx, c.api.Client, "default", "web", 0)
	if err != nil || res.Revision != 1 || res.Skipped {
		t.Fatalf("undo = %+v, %v; want a rollback to revision 1", res, err)
	}
	d := c.waitComplete(t, pods, "web", "tugboat.local/sise:0.9", 2)
	harness.Poll(t, waitTimeout, "deployment at revision 3", func() (bool, string) {
		h, err := rollout.History(ctx, c.api.Client, "default", "web")
		if err != nil || len(h) != 2 {
			return false, fmt.Sprintf("%+v %v", h, err)
		}
		return h[0].Number == 2 && h[1].Number == 3 && h[1].ReplicaSet == h1[0].ReplicaSet && proto.Equal(h[1].Template, h1[0].Template),
			fmt.Sprintf("revisions %d (%s), %d (%s); revision 1 was %s", h[0].Number, h[0].ReplicaSet, h[1].Number, h[1].ReplicaSet, h1[0].ReplicaSet)
	})
	d, _ = c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "web"})
	if rev := d.GetMetadata().GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "3" {
		t.Fatalf("deployment revision = %q, want 3", rev)
	}

	_, err = rollout.Undo(ctx, c.api.Client, "default", "web", 7)
	if !errors.Is(err, rollout.ErrRevisionNotFound) {
		t.Fatalf("undo to revision 7 = %v, want ErrRevisionNotFound", err)
	}
	after, _ := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "web"})
	if after.GetMetadata().GetResourceVersion() != d.GetMetadata().GetResourceVersion() && !proto.Equal(after.GetSpec(), d.GetSpec()) {
		t.Fatalf("a refused undo changed the deployment spec")
	}

	if _, err := c.api.Client.Deployments().UpdateScale(ctx, &appsv1.Scale{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: &appsv1.ScaleSpec{Replicas: 4}}); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "web", "tugboat.local/sise:0.9", 4)

	if err := rollout.Pause(ctx, c.api.Client, "default", "web"); err != nil {
		t.Fatal(err)
	}
	c.setImage(t, "web", "tugboat.local/sise:1.0")
	harness.Poll(t, waitTimeout, "paused deployment reports DeploymentPaused", func() (bool, string) {
		d, _ := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "web"})
		return progressing(d).GetReason() == "DeploymentPaused", progressing(d).String()
	})
	if _, err := rollout.Undo(ctx, c.api.Client, "default", "web", 0); !errors.Is(err, rollout.ErrPaused) {
		t.Fatalf("undo of a paused deployment = %v, want ErrPaused", err)
	}
	if n := countPods(pods.Lister().ListNamespace("default", labels.SelectorFromSet(labels.Set{"app": "web"})), "tugboat.local/sise:1.0"); n.onImage != 0 {
		t.Fatalf("a paused deployment rolled out: %v", n)
	}
	if err := rollout.Resume(ctx, c.api.Client, "default", "web"); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "web", "tugboat.local/sise:1.0", 4)
}

// TestDeploymentBadInput: invalid deployments are refused with the field
// named and nothing is stored.
func TestDeploymentBadInput(t *testing.T) {
	api := harness.StartAPIServer(t)
	ctx := harness.Context(t, waitTimeout)
	for _, tc := range []struct {
		name  string
		edit  func(*appsv1.Deployment)
		field string
	}{
		{"selector does not match the template", func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "other"} }, "spec.template.metadata.labels"},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = proto.Int32(-1) }, "spec.replicas"},
		{"maxSurge and maxUnavailable both 0", func(d *appsv1.Deployment) {
			d.Spec.Strategy = rollingUpdate(structpb.NewNumberValue(0), structpb.NewStringValue("0%"))
		}, "spec.strategy.rollingUpdate.maxUnavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deployment("bad", 2, hollowImage)
			tc.edit(d)
			_, err := api.Client.Deployments().Create(ctx, d)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.field) {
				t.Fatalf("create = %v, want InvalidArgument naming %s", err, tc.field)
			}
			if _, err := api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "bad"}); status.Code(err) != codes.NotFound {
				t.Fatalf("the refused deployment exists: %v", err)
			}
		})
	}
}
