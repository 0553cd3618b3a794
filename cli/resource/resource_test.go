package resource

import (
	"testing"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

func TestMetaAndItems(t *testing.T) {
	pod := &corev1.Pod{}
	Meta(pod).Name = "web"
	if pod.GetMetadata().GetName() != "web" {
		t.Errorf("Meta of a pod without metadata did not attach it: %v", pod)
	}
	list := &corev1.PodList{Items: []*corev1.Pod{pod, {Metadata: &metav1.ObjectMeta{Name: "db"}}}}
	items := Items(list)
	if len(items) != 2 || Meta(items[1]).GetName() != "db" {
		t.Errorf("Items = %v", items)
	}
	if Items(&metav1.Status{}) != nil {
		t.Errorf("Items of a message without items")
	}
}

func TestMethodNames(t *testing.T) {
	for name, want := range map[string]string{
		"pods":        "/tugboat.core.v1.PodService/Get",
		"deployments": "/tugboat.apps.v1.DeploymentService/Get",
		"leases":      "/tugboat.coordination.v1.LeaseService/Get",
	} {
		k, _ := scheme.Lookup(name)
		if got := For(nil, k).method("Get"); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	// Cluster-scoped kinds drop the namespace.
	k, _ := scheme.Lookup("nodes")
	if got := For(nil, k).ns("default"); got != "" {
		t.Errorf("nodes keep namespace %q", got)
	}
}
