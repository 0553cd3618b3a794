package server

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	kubeletv1 "github.com/tugboat-sh/tugboat/gen/tugboat/kubelet/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/kubelet"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// kubeletTarget is where a pods/log or pods/exec request goes: the pod's
// container and the kubelet of its node.
type kubeletTarget struct {
	namespace, pod, container string
	node, addr                string
	client                    kubeletv1.KubeletServiceClient
}

// target reads the pod, picks its container (container may be empty when
// the pod has one), reads the pod's node and returns a client of its kubelet.
func (p *podService) target(ctx context.Context, namespace, name, container string) (*kubeletTarget, error) {
	obj, err := p.res.Get(ctx, &metav1.GetOptions{Namespace: namespace, Name: name})
	if err != nil {
		return nil, err
	}
	pod := obj.(*corev1.Pod)
	t := &kubeletTarget{namespace: pod.GetMetadata().GetNamespace(), pod: pod.GetMetadata().GetName()}
	if t.container, err = chooseContainer(pod, container); err != nil {
		return nil, err
	}
	t.node = pod.GetSpec().GetNodeName()
	if t.node == "" {
		return nil, apierr.NotReady("pod %s does not have a host assigned", t.pod)
	}
	nodeObj, err := p.nodes.Get(ctx, &metav1.GetOptions{Name: t.node})
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == codes.NotFound {
		return nil, apierr.Unavailable("cannot reach the kubelet of pod %s: its node %q is not registered", t.pod, t.node)
	}
	if err != nil {
		return nil, err
	}
	if t.addr, err = kubelet.Address(nodeObj.(*corev1.Node)); err != nil {
		return nil, apierr.Unavailable("cannot reach the kubelet of pod %s: %v", t.pod, err)
	}
	if t.client, err = p.kubelets.Client(t.addr); err != nil {
		if errors.Is(err, kubelet.ErrClosed) {
			return nil, apierr.Unavailable("the apiserver is shutting down")
		}
		return nil, apierr.Unavailable("cannot reach the kubelet of node %q at %s: %v", t.node, t.addr, err)
	}
	return t, nil
}

// upstream converts an error of a kubelet stream: an unreachable kubelet
// becomes a ServiceUnavailable naming the node; the kubelet's own statuses
// (NotFound, InvalidArgument, ...) and cancellations pass unchanged.
func (t *kubeletTarget) upstream(err error) error {
	st, ok := status.FromError(err)
	if ok && st.Code() == codes.Unavailable {
		return apierr.Unavailable("cannot reach the kubelet of node %q at %s: %s", t.node, t.addr, st.Message())
	}
	return err
}

// chooseContainer returns the container a request means: the one named
// (a container or init container of the pod), or the pod's only container
// when name is empty. The errors are worded as Kubernetes words them.
func chooseContainer(pod *corev1.Pod, name string) (string, error) {
	spec, podName := pod.GetSpec(), pod.GetMetadata().GetName()
	containers, inits := containerNames(spec.GetContainers()), containerNames(spec.GetInitContainers())
	if name != "" {
		if !slices.Contains(containers, name) && !slices.Contains(inits, name) {
			return "", apierr.BadRequest("container %s is not valid for pod %s", name, podName)
		}
		return name, nil
	}
	switch len(containers) {
	case 1:
		return containers[0], nil
	case 0:
		return "", apierr.BadRequest("a container name must be specified for pod %s", podName)
	}
	msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", podName, containers)
	if len(inits) > 0 {
		msg += fmt.Sprintf(" or one of the init containers: %v", inits)
	}
	return "", apierr.BadRequest("%s", msg)
}

func containerNames(cs []*corev1.Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.GetName()
	}
	return out
}
