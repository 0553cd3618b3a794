package pods

import (
	"context"
	"path/filepath"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Located is a pod's container as the runtime knows it.
type Located struct {
	ID      string
	LogPath string
	Running bool
}

// Container finds the runtime container behind container of pod ns/name,
// or with previous its instance before the current one; for logs and exec.
func (m *Manager) Container(ctx context.Context, ns, name, container string, previous bool) (Located, error) {
	pod, ok := m.inf.Lister().Get(ns, name)
	if !ok {
		return Located{}, status.Errorf(codes.NotFound, "pod %q not found on node %s", ns+"/"+name, m.cfg.NodeName)
	}
	rts, err := m.inspect(ctx, ns, name)
	if err != nil {
		return Located{}, status.Errorf(codes.Unavailable, "runtime: %v", err)
	}
	rp := rts[pod.GetMetadata().GetUid()]
	if rp == nil {
		return Located{}, status.Errorf(codes.NotFound, "pod %q has no containers yet", name)
	}
	h := rp.history(container)
	i := 0
	// As Kubernetes: --previous is the instance status shows as lastState,
	// which is the newest one while it waits to be restarted.
	if previous && len(h) > 0 && h[0].status.GetState() != runtimeapi.ContainerState_CONTAINER_EXITED {
		i = 1
	}
	if len(h) <= i {
		if previous {
			return Located{}, status.Errorf(codes.InvalidArgument, "previous terminated container %q in pod %q not found", container, name)
		}
		return Located{}, status.Errorf(codes.InvalidArgument, "container %q in pod %q is waiting to start", container, name)
	}
	c := h[i]
	var dir string
	for _, sb := range rp.sandboxes {
		if sb.GetId() == c.c.GetPodSandboxId() {
			dir = m.podLogDir(ns, name, rp.uid)
		}
	}
	logPath := c.status.GetLogPath()
	if logPath != "" && !filepath.IsAbs(logPath) {
		if dir == "" {
			dir = m.podLogDir(ns, name, rp.uid)
		}
		logPath = filepath.Join(dir, logPath)
	}
	return Located{ID: c.c.GetId(), LogPath: logPath, Running: c.status.GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING}, nil
}
