package pods

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tugboat-sh/tugboat/client/record"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// createAndStart pulls the container's image as its pull policy says,
// creates the container in the sandbox and starts it. Failures become the
// container's waiting reason and an Event; it returns when to retry.
func (m *Manager) createAndStart(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sb *runtimeapi.PodSandbox, attempt uint32, ip string) (time.Duration, error) {
	ref := record.PodRef(pod)
	if vs := m.volumeState(pod.GetMetadata().GetUid()); vs.err != nil {
		m.setWaiting(pod, c.GetName(), &waitReason{"ContainerCreating", vs.err.Error()})
		return 0, vs.err
	}
	pullKey := pod.GetMetadata().GetUid() + "/" + c.GetName() + "/pull"
	image, err := m.ensureImage(ctx, pod, c, pullKey)
	if err != nil {
		return max(m.backoff.wait(pullKey, time.Time{}, 0, time.Now()), time.Second), err
	}
	cfg, err := m.containerConfig(pod, c, image, attempt, ip)
	if err != nil {
		m.setWaiting(pod, c.GetName(), &waitReason{"CreateContainerConfigError", err.Error()})
		m.rec.Eventf(ref, record.Warning, "Failed", "Error: %v", err)
		return 0, err
	}
	sbCfg := m.sandboxConfig(pod, sb.GetMetadata().GetAttempt())
	created, err := m.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: sb.GetId(), Config: cfg, SandboxConfig: sbCfg})
	m.metrics.op("create_container", err)
	if err != nil {
		m.setWaiting(pod, c.GetName(), &waitReason{"CreateContainerError", err.Error()})
		m.rec.Eventf(ref, record.Warning, "Failed", "Error: %v", err)
		return 0, fmt.Errorf("create container %s: %w", c.GetName(), err)
	}
	m.rec.Eventf(ref, record.Normal, "Created", "Created container %s", c.GetName())
	return 0, m.start(ctx, pod, c, created.GetContainerId())
}

// start starts a created container.
func (m *Manager) start(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string) error {
	ref := record.PodRef(pod)
	_, err := m.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id})
	m.metrics.op("start_container", err)
	if err != nil {
		// The runtime keeps it as exited (StartError): the restart policy
		// and its back-off take it from here.
		m.setWaiting(pod, c.GetName(), &waitReason{"RunContainerError", err.Error()})
		m.rec.Eventf(ref, record.Warning, "Failed", "Error: %v", err)
		return fmt.Errorf("start container %s: %w", c.GetName(), err)
	}
	m.setWaiting(pod, c.GetName(), nil)
	m.rec.Eventf(ref, record.Normal, "Started", "Started container %s", c.GetName())
	return nil
}

// ensureImage returns the runtime's reference of the container's image,
// pulling it when the policy asks or it is missing.
func (m *Manager) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container, pullKey string) (string, error) {
	ref := record.PodRef(pod)
	spec := &runtimeapi.ImageSpec{Image: c.GetImage(), UserSpecifiedImage: c.GetImage()}
	policy := c.GetImagePullPolicy()
	if policy == "" {
		policy = "IfNotPresent"
		if !strings.Contains(lastSegment(c.GetImage()), ":") || strings.HasSuffix(c.GetImage(), ":latest") {
			policy = "Always"
		}
	}
	if policy != "Always" {
		st, err := m.rt.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: spec})
		if err != nil {
			m.backoff.retried(pullKey, time.Now())
			return "", fmt.Errorf("image status %s: %w", c.GetImage(), err)
		}
		if st.GetImage() != nil {
			m.rec.Eventf(ref, record.Normal, "Pulled", "Container image %q already present on machine", c.GetImage())
			return st.GetImage().GetId(), nil
		}
		if policy == "Never" {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.GetImage())
			m.backoff.retried(pullKey, time.Now())
			if m.setWaiting(pod, c.GetName(), &waitReason{"ErrImageNeverPull", msg}) {
				m.rec.Event(ref, record.Warning, "ErrImageNeverPull", msg)
			}
			return "", errBackingOff
		}
	}
	if wait := m.backoff.wait(pullKey, time.Time{}, 0, time.Now()); wait > 0 {
		w, _ := m.waitingOf(pod.GetMetadata().GetUid(), c.GetName())
		msg := fmt.Sprintf("Back-off pulling image %q", c.GetImage())
		if m.setWaiting(pod, c.GetName(), &waitReason{"ImagePullBackOff", msg}) || w.reason != "ImagePullBackOff" {
			m.rec.Event(ref, record.Normal, "BackOff", msg)
		}
		return "", errBackingOff
	}
	m.rec.Eventf(ref, record.Normal, "Pulling", "Pulling image %q", c.GetImage())
	start := time.Now()
	resp, err := m.rt.PullImage(ctx, &runtimeapi.PullImageRequest{Image: spec})
	m.metrics.op("pull_image", err)
	if err != nil {
		m.backoff.retried(pullKey, time.Now())
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.GetImage(), err)
		m.setWaiting(pod, c.GetName(), &waitReason{"ErrImagePull", msg})
		m.rec.Event(ref, record.Warning, "Failed", msg)
		return "", fmt.Errorf("pull %s: %w", c.GetImage(), err)
	}
	m.backoff.forget(pullKey)
	m.rec.Eventf(ref, record.Normal, "Pulled", "Successfully pulled image %q in %s", c.GetImage(), time.Since(start).Round(time.Millisecond))
	return resp.GetImageRef(), nil
}

// errBackingOff says a container waits for its back-off to pass: no failure.
var errBackingOff = errors.New("backing off")

// lastSegment is the part of an image reference after its last slash.
func lastSegment(image string) string {
	if i := strings.LastIndex(image, "/"); i >= 0 {
		return image[i+1:]
	}
	return image
}
