package fakeruntime

import (
	"slices"
	"sync"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestOnEvent(t *testing.T) {
	e := start(t, Config{})
	var mu sync.Mutex
	var got []EventType
	e.rt.OnEvent(func(ev Event) {
		_ = e.rt.Counters() // hooks may call back into the runtime
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.Type)
		if ev.Time.IsZero() || ev.ID == "" {
			t.Errorf("event %+v lacks an id or a time", ev)
		}
	})
	sb, id := e.runContainer(t, "web", "tugboat.local/app:v1")
	if _, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rs.RemovePodSandbox(e.ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb}); err != nil {
		t.Fatal(err)
	}
	want := []EventType{ImagePulled, SandboxRun, ContainerCreated, ContainerStarted, ContainerExited,
		SandboxStopped, ContainerRemoved, SandboxRemoved}
	waitFor(t, "all events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

func TestGetContainerEvents(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/app:v1")
	stream, err := e.rs.GetContainerEvents(e.ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stream to subscribe", func() bool {
		e.rt.mu.Lock()
		defer e.rt.mu.Unlock()
		return len(e.rt.subs) == 1
	})
	sb := e.runPod(t, sandboxConfig("web", "default", nil))
	id := e.create(t, sb, containerConfig("app", "tugboat.local/app:v1"))
	e.startContainer(t, id)

	type ev struct {
		id string
		t  runtimeapi.ContainerEventType
	}
	want := []ev{
		{sb, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT},
		{sb, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT},
		{id, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT},
		{id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT},
	}
	for i, w := range want {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if resp.ContainerId != w.id || resp.ContainerEventType != w.t || resp.PodSandboxStatus.GetId() != sb {
			t.Fatalf("event %d = %s %v (sandbox %s), want %s %v", i, resp.ContainerId, resp.ContainerEventType, resp.PodSandboxStatus.GetId(), w.id, w.t)
		}
		if i == 3 && (len(resp.ContainersStatuses) != 1 || resp.ContainersStatuses[0].State != runtimeapi.ContainerState_CONTAINER_RUNNING) {
			t.Fatalf("started event carries statuses %v", resp.ContainersStatuses)
		}
	}
}
