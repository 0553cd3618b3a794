package fakeruntime

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerLifecycle(t *testing.T) {
	e := start(t, Config{})
	imageID := e.pull(t, "tugboat.local/app:v1")
	cfg := sandboxConfig("web", "default", nil)
	cfg.LogDirectory = t.TempDir()
	sb := e.runPod(t, cfg)
	cc := containerConfig("app", imageID, "/app", "--port=8080")
	cc.Labels = map[string]string{"io.kubernetes.container.name": "app"}
	cc.Annotations = map[string]string{"io.kubernetes.container.hash": "abc"}
	cc.LogPath = "app/0.log"
	id := e.create(t, sb, cc)

	st := e.containerStatus(t, id)
	if st.State != runtimeapi.ContainerState_CONTAINER_CREATED || st.CreatedAt == 0 || st.StartedAt != 0 || st.FinishedAt != 0 {
		t.Fatalf("created: %v", st)
	}
	if st.Metadata.Name != "app" || st.Image.Image != "tugboat.local/app:v1" || st.ImageId != imageID ||
		st.ImageRef == "" || st.ImageRef[:len("tugboat.local/app@sha256:")] != "tugboat.local/app@sha256:" {
		t.Fatalf("image fields: image %v imageRef %q imageId %q", st.Image, st.ImageRef, st.ImageId)
	}
	if st.Labels["io.kubernetes.container.name"] != "app" || st.Annotations["io.kubernetes.container.hash"] != "abc" {
		t.Fatalf("labels %v annotations %v", st.Labels, st.Annotations)
	}
	if want := filepath.Join(cfg.LogDirectory, "app/0.log"); st.LogPath != want {
		t.Fatalf("LogPath = %q, want %q", st.LogPath, want)
	}

	e.startContainer(t, id)
	st = e.containerStatus(t, id)
	if st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || st.StartedAt < st.CreatedAt || st.FinishedAt != 0 {
		t.Fatalf("started: %v", st)
	}
	if _, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 30}); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st = e.containerStatus(t, id)
	if st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 143 || st.Reason != "Error" || st.FinishedAt < st.StartedAt {
		t.Fatalf("stopped: %v", st)
	}
	if _, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 30}); err != nil {
		t.Fatalf("StopContainer on an exited container = %v, want nil", err)
	}
	for range 2 {
		if _, err := e.rs.RemoveContainer(e.ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
			t.Fatalf("RemoveContainer: %v", err)
		}
	}
	_, err := e.rs.ContainerStatus(e.ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	wantCode(t, err, codes.NotFound, `container "`+id+`" not found`)
	_, err = e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id})
	wantCode(t, err, codes.NotFound, id)

	c := e.rt.Counters()
	if c.ContainersCreated != 1 || c.ContainersStarted != 1 || c.ContainersStopped != 1 || c.ContainersExited != 1 ||
		c.ContainersRemoved != 1 || c.Containers != 0 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestStopContainerModes(t *testing.T) {
	tests := []struct {
		name       string
		mode       StopMode
		timeout    int64
		wantCode   int32
		wantReason string
	}{
		{"SIGTERM kills", StopTerminated, 10, 143, "Error"},
		{"graceful exit", StopGraceful, 10, 0, "Completed"},
		{"zero timeout kills", StopGraceful, 0, 137, "Error"},
		{"ignored SIGTERM then SIGKILL", StopIgnoreTerm, 1, 137, "Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Config{})
			if err := e.rt.SetBehavior("tugboat.local/app:v1", Behavior{Stop: tt.mode}); err != nil {
				t.Fatal(err)
			}
			_, id := e.runContainer(t, "web", "tugboat.local/app:v1")
			began := time.Now()
			if _, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: tt.timeout}); err != nil {
				t.Fatalf("StopContainer: %v", err)
			}
			if waited := time.Since(began); tt.mode == StopIgnoreTerm && waited < time.Duration(tt.timeout)*time.Second {
				t.Errorf("StopContainer returned after %v, before the %ds timeout", waited, tt.timeout)
			}
			st := e.containerStatus(t, id)
			if st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != tt.wantCode || st.Reason != tt.wantReason {
				t.Fatalf("state %v exit %d reason %q, want EXITED %d %q", st.State, st.ExitCode, st.Reason, tt.wantCode, tt.wantReason)
			}
		})
	}
}

func TestStopIgnoringContainer(t *testing.T) {
	e := start(t, Config{})
	if err := e.rt.SetBehavior("tugboat.local/stubborn:v1", Behavior{Stop: StopIgnoreTerm}); err != nil {
		t.Fatal(err)
	}

	t.Run("caller gives up", func(t *testing.T) {
		_, id := e.runContainer(t, "a", "tugboat.local/stubborn:v1")
		ctx, cancel := context.WithTimeout(e.ctx, 50*time.Millisecond)
		defer cancel()
		_, err := e.rs.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 3600})
		wantCode(t, err, codes.DeadlineExceeded)
		if st := e.containerStatus(t, id); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
			t.Fatalf("state = %v, want still RUNNING", st.State)
		}
	})

	t.Run("exits while waited for", func(t *testing.T) {
		_, id := e.runContainer(t, "b", "tugboat.local/stubborn:v1")
		errc := make(chan error, 1)
		go func() {
			_, err := e.rs.StopContainer(e.ctx, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 3600})
			errc <- err
		}()
		waitFor(t, "StopContainer to wait", func() bool {
			e.rt.mu.Lock()
			defer e.rt.mu.Unlock()
			return e.rt.containers[id].done != nil
		})
		if err := e.rt.ExitContainer(id, 2, ""); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("StopContainer: %v", err)
		}
		if st := e.containerStatus(t, id); st.ExitCode != 2 {
			t.Fatalf("exit code = %d, want 2", st.ExitCode)
		}
	})
}

func TestContainerErrors(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/app:v1")
	sb := e.runPod(t, sandboxConfig("web", "default", nil))
	id := e.create(t, sb, containerConfig("app", "tugboat.local/app:v1"))
	stopped := e.runPod(t, sandboxConfig("old", "default", nil))
	inStopped := e.create(t, stopped, containerConfig("app", "tugboat.local/app:v1"))
	if _, err := e.rs.StopPodSandbox(e.ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: stopped}); err != nil {
		t.Fatal(err)
	}
	create := func(sandbox string, cfg *runtimeapi.ContainerConfig) error {
		_, err := e.rs.CreateContainer(e.ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sandbox, Config: cfg})
		return err
	}
	start := func(id string) error {
		_, err := e.rs.StartContainer(e.ctx, &runtimeapi.StartContainerRequest{ContainerId: id})
		return err
	}
	tests := []struct {
		name  string
		err   error
		code  codes.Code
		parts []string
	}{
		{"unknown sandbox", create("nope", containerConfig("x", "tugboat.local/app:v1")), codes.NotFound, []string{`pod sandbox "nope" not found`}},
		{"stopped sandbox", create(stopped, containerConfig("x", "tugboat.local/app:v1")), codes.FailedPrecondition, []string{stopped, "NOTREADY"}},
		{"image not pulled", create(sb, containerConfig("x", "tugboat.local/other:v1")), codes.NotFound, []string{`image "tugboat.local/other:v1" not found`}},
		{"no metadata", create(sb, &runtimeapi.ContainerConfig{}), codes.InvalidArgument, []string{"metadata"}},
		{"no image", create(sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "x"}}), codes.InvalidArgument, []string{`"x"`}},
		{"same attempt twice", create(sb, containerConfig("app", "tugboat.local/app:v1")), codes.AlreadyExists, []string{`"app"`, id}},
		{"start unknown", start("nope"), codes.NotFound, []string{`container "nope" not found`}},
		{"start in stopped sandbox", start(inStopped), codes.FailedPrecondition, []string{"NOTREADY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err, tt.code, tt.parts...) })
	}
	e.startContainer(t, id)
	wantCode(t, start(id), codes.FailedPrecondition, id, "RUNNING", "not CREATED")
}

func TestListContainersFilters(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/app:v1")
	sb1 := e.runPod(t, sandboxConfig("web", "default", nil))
	sb2 := e.runPod(t, sandboxConfig("db", "default", nil))
	mk := func(sb, name string, labels map[string]string) string {
		cfg := containerConfig(name, "tugboat.local/app:v1")
		cfg.Labels = labels
		return e.create(t, sb, cfg)
	}
	a := mk(sb1, "a", map[string]string{"role": "main"})
	b := mk(sb1, "b", map[string]string{"role": "sidecar"})
	c := mk(sb2, "c", map[string]string{"role": "main"})
	e.startContainer(t, a)
	e.startContainer(t, c)
	if err := e.rt.ExitContainer(c, 0, ""); err != nil {
		t.Fatal(err)
	}
	state := func(s runtimeapi.ContainerState) *runtimeapi.ContainerStateValue {
		return &runtimeapi.ContainerStateValue{State: s}
	}
	tests := []struct {
		name   string
		filter *runtimeapi.ContainerFilter
		want   []string
	}{
		{"all", nil, []string{a, b, c}},
		{"by id", &runtimeapi.ContainerFilter{Id: b}, []string{b}},
		{"by sandbox", &runtimeapi.ContainerFilter{PodSandboxId: sb1}, []string{a, b}},
		{"id in other sandbox", &runtimeapi.ContainerFilter{Id: c, PodSandboxId: sb1}, nil},
		{"running", &runtimeapi.ContainerFilter{State: state(runtimeapi.ContainerState_CONTAINER_RUNNING)}, []string{a}},
		{"created", &runtimeapi.ContainerFilter{State: state(runtimeapi.ContainerState_CONTAINER_CREATED)}, []string{b}},
		{"exited", &runtimeapi.ContainerFilter{State: state(runtimeapi.ContainerState_CONTAINER_EXITED)}, []string{c}},
		{"label", &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"role": "main"}}, []string{a, c}},
		{"label and sandbox", &runtimeapi.ContainerFilter{PodSandboxId: sb2, LabelSelector: map[string]string{"role": "main"}}, []string{c}},
		{"no such label", &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"role": "x"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.rs.ListContainers(e.ctx, &runtimeapi.ListContainersRequest{Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range resp.Containers {
				got = append(got, c.Id)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
			stats, err := e.rs.ListContainerStats(e.ctx, &runtimeapi.ListContainerStatsRequest{Filter: &runtimeapi.ContainerStatsFilter{
				Id: tt.filter.GetId(), PodSandboxId: tt.filter.GetPodSandboxId(), LabelSelector: tt.filter.GetLabelSelector()}})
			if err != nil {
				t.Fatal(err)
			}
			if tt.filter.GetState() == nil && len(stats.Stats) != len(tt.want) {
				t.Fatalf("ListContainerStats gave %d, want %d", len(stats.Stats), len(tt.want))
			}
		})
	}
}

func TestRemovePodSandboxRemovesContainers(t *testing.T) {
	e := start(t, Config{})
	sb, id := e.runContainer(t, "web", "tugboat.local/app:v1")
	if _, err := e.rs.RemovePodSandbox(e.ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb}); err != nil {
		t.Fatal(err)
	}
	_, err := e.rs.ContainerStatus(e.ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	wantCode(t, err, codes.NotFound, id)
	c := e.rt.Counters()
	if c.ContainersExited != 1 || c.ContainersRemoved != 1 || c.SandboxesStopped != 1 || c.SandboxesRemoved != 1 ||
		c.Containers != 0 || c.Sandboxes != 0 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestUpdateResourcesAndStats(t *testing.T) {
	e := start(t, Config{})
	_, id := e.runContainer(t, "web", "tugboat.local/app:v1")
	_, err := e.rs.UpdateContainerResources(e.ctx, &runtimeapi.UpdateContainerResourcesRequest{
		ContainerId: id, Linux: &runtimeapi.LinuxContainerResources{CpuShares: 512, MemoryLimitInBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.containerStatus(t, id).Resources.GetLinux(); r.GetCpuShares() != 512 || r.GetMemoryLimitInBytes() != 64<<20 {
		t.Fatalf("resources = %v", r)
	}
	stats, err := e.rs.ContainerStats(e.ctx, &runtimeapi.ContainerStatsRequest{ContainerId: id})
	if err != nil || stats.Stats.Attributes.Id != id || stats.Stats.Memory.WorkingSetBytes.GetValue() == 0 {
		t.Fatalf("ContainerStats = %v, %v", stats, err)
	}
	if err := e.rt.ExitContainer(id, 0, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.rs.UpdateContainerResources(e.ctx, &runtimeapi.UpdateContainerResourcesRequest{ContainerId: id})
	wantCode(t, err, codes.FailedPrecondition, id, "EXITED")
	_, err = e.rs.ContainerStats(e.ctx, &runtimeapi.ContainerStatsRequest{ContainerId: "nope"})
	wantCode(t, err, codes.NotFound, `container "nope" not found`)
}
