package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	appsv1 "github.com/tugboat-sh/tugboat/gen/tugboat/apps/v1"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/controller-manager/app"
	"github.com/tugboat-sh/tugboat/test/harness"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// workloadCluster is an apiserver, a scheduler, a controller-manager and
// hollow nodes.
type workloadCluster struct {
	*cluster
	cm     *harness.ControllerManager
	hollow *harness.HollowKubelets
}

func startWorkloadCluster(t *testing.T, nodes int, configure func(*app.Config), opts ...harness.HollowOption) *workloadCluster {
	t.Helper()
	c := startCluster(t, harness.SchedulerOptions{})
	cm := harness.StartControllerManager(t, c.api, harness.ControllerManagerOptions{Configure: configure})
	opts = append([]harness.HollowOption{harness.WithHollowCapacity(hollowCapacity)}, opts...)
	h := harness.StartHollowKubelets(t, c.api, nodes, opts...)
	return &workloadCluster{cluster: c, cm: cm, hollow: h}
}

// template is a pod template labelled app=name running image.
func template(name, image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec:     &corev1.PodSpec{Containers: []*corev1.Container{{Name: "app", Image: image}}},
	}
}

func deployment(name string, replicas int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &appsv1.DeploymentSpec{
			Replicas: proto.Int32(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: template(name, image),
		},
	}
}

func rollingUpdate(maxSurge, maxUnavailable *structpb.Value) *appsv1.DeploymentStrategy {
	return &appsv1.DeploymentStrategy{Type: "RollingUpdate", RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: maxSurge, MaxUnavailable: maxUnavailable}}
}

// podCache caches the pods of one namespace and calls check on every change.
func podCache(t *testing.T, c *cluster, namespace string, check func(informer.Lister[*corev1.Pod])) *informer.Informer[*corev1.Pod] {
	t.Helper()
	inf := informer.New(c.api.Client.Pods(), informer.Options{Namespace: namespace})
	if check != nil {
		h := func(*corev1.Pod) { check(inf.Lister()) }
		inf.AddHandler(informer.HandlerFuncs[*corev1.Pod]{AddFunc: h, UpdateFunc: func(_, p *corev1.Pod) { h(p) }, DeleteFunc: h})
	}
	ctx := harness.Context(t, 10*time.Minute)
	go inf.Run(ctx)
	if !inf.WaitForSync(harness.Context(t, waitTimeout)) {
		t.Fatal("pod informer did not sync")
	}
	return inf
}

// counts are the pods of one selector: active (not finished, not being
// deleted), available (active and ready), on the image.
type counts struct{ active, available, onImage int }

func countPods(pods []*corev1.Pod, image string) counts {
	var c counts
	for _, p := range pods {
		if p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		if ph := p.GetStatus().GetPhase(); ph == "Succeeded" || ph == "Failed" {
			continue
		}
		c.active++
		for _, cond := range p.GetStatus().GetConditions() {
			if cond.GetType() == "Ready" && cond.GetStatus() == "True" {
				c.available++
			}
		}
		if p.GetSpec().GetContainers()[0].GetImage() == image {
			c.onImage++
		}
	}
	return c
}

func (c counts) String() string {
	return fmt.Sprintf("%d active, %d available, %d on the image", c.active, c.available, c.onImage)
}
