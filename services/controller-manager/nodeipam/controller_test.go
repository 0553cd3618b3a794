package nodeipam

import (
	"net/netip"
	"testing"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/internal/testenv"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Two nodes registered with the same pod CIDR are reported (the log line
// beside the CIDRNotAvailable Event; the fake apiserver keeps no Events),
// and a third node gets another block.
func TestConflictingNodesReportedAndSkipped(t *testing.T) {
	env := testenv.Start(t)
	core, logs := observer.New(zap.InfoLevel)
	for _, n := range []string{"a", "b"} {
		if _, err := env.Srv.Nodes.Create(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: n}, Spec: &corev1.NodeSpec{PodCidr: "10.244.0.0/24"}}); err != nil {
			t.Fatal(err)
		}
	}
	nodes := informer.New(env.CS.Nodes(), informer.Options{})
	c, err := New(netip.MustParsePrefix("10.244.0.0/16"), 24, env.CS, nodes, env.Events, env.Metrics, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, nodes)
	go c.Run(env.Ctx, 1)
	testenv.Eventually(t, "the conflict is logged", func() bool { return logs.FilterMessage("pod CIDR conflict").Len() == 1 })
	if _, err := env.Srv.Nodes.Create(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "node c gets a block", func() bool {
		n, err := env.Srv.Nodes.Get("", "c")
		return err == nil && n.GetSpec().GetPodCidr() != ""
	})
	if n, _ := env.Srv.Nodes.Get("", "c"); n.GetSpec().GetPodCidr() != "10.244.1.0/24" {
		t.Fatalf("node c got %s, want 10.244.1.0/24 (10.244.0.0/24 is a's and b's)", n.GetSpec().GetPodCidr())
	}
}
