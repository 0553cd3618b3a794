package integration

import (
	"net/http"
	"testing"
	"time"

	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

// TestUnconditionalScaleOutlastsStatusWrites: an UpdateScale without a
// resourceVersion overwrites, so a status write that lands between the
// apiserver's read and its update (a controller's, here one every 2 ms)
// does not make it fail with a conflict.
func TestUnconditionalScaleOutlastsStatusWrites(t *testing.T) {
	t.Parallel()
	s := start(t, options{})
	s.must(t, http.StatusCreated, "POST", "/apis/apps/v1/namespaces/default/replicasets", func() obj {
		rs := deploymentJSON("busy", 1)
		rs["kind"] = "ReplicaSet"
		return rs
	}())
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := int32(1); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rs, err := s.cs.ReplicaSets().Get(ctx(t), &metav1.GetOptions{Namespace: "default", Name: "busy"})
			if err != nil {
				continue
			}
			rs.Status = &appsv1.ReplicaSetStatus{Replicas: i % 7}
			_, _ = s.cs.ReplicaSets().UpdateStatus(ctx(t), rs)
		}
	}()
	defer func() { close(stop); <-done }()
	for n := int32(0); n < 100; n++ {
		sc, err := s.cs.ReplicaSets().UpdateScale(ctx(t), &appsv1.Scale{
			Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "busy"},
			Spec:     &appsv1.ScaleSpec{Replicas: n % 5},
		})
		if err != nil || sc.GetSpec().GetReplicas() != n%5 {
			t.Fatalf("UpdateScale #%d to %d = %v, %v; want it applied despite the status writes", n, n%5, sc.GetSpec(), err)
		}
	}
}
