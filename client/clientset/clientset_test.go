package clientset

import (
	"context"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/fake"
	coordinationv1 "github.com/tugboat-sh/tugboat/gen/tugboat/coordination/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
)

func TestSetTalksToEveryKindOverOneConn(t *testing.T) {
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	conn, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cs := New(conn)
	if cs.Conn() != conn {
		t.Fatal("Conn() is not the connection given to New")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cs.Pods().Create(ctx, &corev1.Pod{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Leases().Create(ctx, &coordinationv1.Lease{Metadata: &metav1.ObjectMeta{Namespace: "default", Name: "l"}}); err != nil {
		t.Fatal(err)
	}
	pods, err := cs.Pods().List(ctx, &metav1.ListOptions{Namespace: "default"})
	if err != nil || len(pods.GetItems()) != 1 || pods.GetItems()[0].GetMetadata().GetName() != "web" {
		t.Fatalf("Pods().List = %v, %v; want the pod web", pods, err)
	}
	got, err := cs.Leases().Get(ctx, &metav1.GetOptions{Namespace: "default", Name: "l"})
	if err != nil || got.GetMetadata().GetName() != "l" {
		t.Fatalf("Leases().Get = %v, %v", got, err)
	}
	for name, c := range map[string]any{
		"Namespaces": cs.Namespaces(), "Nodes": cs.Nodes(), "Services": cs.Services(), "Endpoints": cs.Endpoints(),
		"Secrets": cs.Secrets(), "ConfigMaps": cs.ConfigMaps(), "ServiceAccounts": cs.ServiceAccounts(), "Events": cs.Events(), "ReplicaSets": cs.ReplicaSets(),
		"Deployments": cs.Deployments(), "Jobs": cs.Jobs(), "CronJobs": cs.CronJobs(),
	} {
		if c == nil {
			t.Errorf("%s() is nil", name)
		}
	}
}
