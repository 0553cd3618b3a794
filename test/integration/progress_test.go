package integration

import (
	"testing"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
)

// TestDeploymentProgressDeadline: a rollout to an image that cannot be
// pulled makes no progress, and after progressDeadlineSeconds the
// deployment says so (Progressing=False, ProgressDeadlineExceeded) while
// it stays Available on its old pods.
func TestDeploymentProgressDeadline(t *testing.T) {
	c := startWorkloadCluster(t, 2, nil)
	ctx := harness.Context(t, 2*waitTimeout)
	pods := podCache(t, c.cluster, "default", nil)
	d := deployment("stuck", 3, hollowImage)
	d.Spec.ProgressDeadlineSeconds = proto.Int32(2)
	if _, err := c.api.Client.Deployments().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.waitComplete(t, pods, "stuck", hollowImage, 3)
	// Only images of tugboat.local exist for the hollow nodes' runtimes.
	c.setImage(t, "stuck", "registry.invalid/missing:1")
	harness.Poll(t, waitTimeout, "the deployment reports ProgressDeadlineExceeded and stays Available", func() (bool, string) {
		got, err := c.api.Client.Deployments().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "stuck"})
		if err != nil {
			return false, err.Error()
		}
		p := progressing(got)
		available := false
		for _, cond := range got.GetStatus().GetConditions() {
			if cond.GetType() == "Available" && cond.GetStatus() == "True" {
				available = true
			}
		}
		return p.GetStatus() == "False" && p.GetReason() == "ProgressDeadlineExceeded" && available, got.GetStatus().String()
	})
}
