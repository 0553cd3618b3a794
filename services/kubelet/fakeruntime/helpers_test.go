package fakeruntime

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// env is a Runtime served on a unix socket in a temporary directory, with
// clients connected the way a kubelet connects.
type env struct {
	rt  *Runtime
	rs  runtimeapi.RuntimeServiceClient
	is  runtimeapi.ImageServiceClient
	ctx context.Context
}

func start(t *testing.T, cfg Config) *env {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	lis, endpoint, err := Listen(t.TempDir())
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if !strings.HasPrefix(endpoint, "unix:///") || !strings.HasSuffix(endpoint, "/"+SocketName) {
		t.Fatalf("endpoint = %q, want unix:///.../%s", endpoint, SocketName)
	}
	return serve(t, rt, lis, endpoint)
}

func serve(t *testing.T, rt *Runtime, lis net.Listener, endpoint string, opts ...grpc.DialOption) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx, lis) }()
	conn, err := grpc.NewClient(endpoint, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("dial %s: %v", endpoint, err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
		rt.Close()
	})
	return &env{rt: rt, rs: runtimeapi.NewRuntimeServiceClient(conn), is: runtimeapi.NewImageServiceClient(conn), ctx: t.Context()}
}

// wantCode fails unless err is a gRPC status with code whose message
// contains every one of parts.
func wantCode(t *testing.T, err error, code codes.Code, parts ...string) {
	t.Helper()
	s, ok := status.FromError(err)
	if !ok || s.Code() != code {
		t.Fatalf("error = %v, want code %v", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(s.Message(), p) {
			t.Fatalf("error message %q does not contain %q", s.Message(), p)
		}
	}
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func sandboxConfig(name, ns string, labels map[string]string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: ns, Uid: ns + "-" + name + "-uid"},
		Labels:   labels,
	}
}

func (e *env) runPod(t *testing.T, cfg *runtimeapi.PodSandboxConfig) string {
	t.Helper()
	resp, err := e.rs.RunPodSandbox(e.ctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	return resp.PodSandboxId
}

func (e *env) pull(t *testing.T, ref string) string {
	t.Helper()
	resp, err := e.is.PullImage(e.ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatalf("PullImage(%s): %v", ref, err)
	}
	return resp.ImageRef
}

func containerConfig(name, image string, cmd ...string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: image},
		Command:  cmd,
	}
}

func (e *env) create(t *testing.T, sandboxID string, cfg *runtimeapi.ContainerConfig) string {
	t.Helper()
	resp, err := e.rs.CreateContainer(e.ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sandboxID, Config: cfg})
	if err != nil {
		t.Fatalf("CreateContainer(%s): %v", cfg.GetMetadata().GetName(), err)
	}
	return resp.ContainerId
}

func (e *env) startContainer(t *testing.T, id string) {
	t.Helper()
	if _, err := e.rs.StartContainer(e.ctx, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
}

// runContainer pulls image and creates and starts a container in a new pod.
func (e *env) runContainer(t *testing.T, pod, image string) (sandboxID, containerID string) {
	t.Helper()
	e.pull(t, image)
	sandboxID = e.runPod(t, sandboxConfig(pod, "default", nil))
	containerID = e.create(t, sandboxID, containerConfig("app", image, "/app"))
	e.startContainer(t, containerID)
	return sandboxID, containerID
}

func (e *env) containerStatus(t *testing.T, id string) *runtimeapi.ContainerStatus {
	t.Helper()
	resp, err := e.rs.ContainerStatus(e.ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		t.Fatalf("ContainerStatus: %v", err)
	}
	return resp.Status
}

func (e *env) sandboxStatus(t *testing.T, id string) *runtimeapi.PodSandboxStatus {
	t.Helper()
	resp, err := e.rs.PodSandboxStatus(e.ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		t.Fatalf("PodSandboxStatus: %v", err)
	}
	return resp.Status
}
