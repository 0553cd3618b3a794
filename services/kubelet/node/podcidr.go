package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrNoPodCIDR: the Node got no spec.podCIDR in time.
var ErrNoPodCIDR = errors.New("no spec.podCIDR assigned")

// WaitForPodCIDR is for a kubelet given no pod CIDR of its own: it makes
// sure the Node exists (registered with its labels and without
// spec.podCIDR, so that the controller-manager's node IPAM gives it a
// block) and watches it until spec.podCIDR is set, for at most timeout.
func WaitForPodCIDR(ctx context.Context, cs *clientset.Set, name string, labels map[string]string, timeout time.Duration, log *zap.Logger) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nodes := cs.Nodes()
	n, err := nodes.Create(ctx, &corev1.Node{ApiVersion: "v1", Kind: "Node",
		Metadata: &metav1.ObjectMeta{Name: name, Labels: maps.Clone(labels)}, Spec: &corev1.NodeSpec{}})
	if status.Code(err) == codes.AlreadyExists {
		n, err = nodes.Get(ctx, &metav1.GetOptions{Name: name})
	}
	if err != nil {
		return "", fmt.Errorf("node %s: register to wait for a pod CIDR: %w", name, err)
	}
	log.Info("waiting for the controller-manager's node IPAM to set the node's spec.podCIDR (no --pod-cidr given)",
		zap.String("node", name), zap.Duration("timeout", timeout))
	timedOut := func() error {
		return fmt.Errorf("node %s: %w after %v: run the controller-manager with node IPAM (--allocate-node-cidrs), or give --pod-cidr",
			name, ErrNoPodCIDR, timeout)
	}
	for {
		cidr := n.GetSpec().GetPodCidr()
		if cidr == "" {
			var werr error
			if cidr, werr = watchPodCIDR(ctx, cs, name, n.GetMetadata().GetResourceVersion()); cidr == "" {
				if ctx.Err() != nil {
					return "", timedOut()
				}
				// The watch ended (an apiserver restart, a compacted
				// revision): read the node again, a second later.
				log.Info("node watch ended; reading the node again", zap.String("node", name), zap.Error(werr))
				select {
				case <-ctx.Done():
					return "", timedOut()
				case <-time.After(time.Second):
				}
				if n, err = nodes.Get(ctx, &metav1.GetOptions{Name: name}); err != nil {
					if ctx.Err() != nil {
						return "", timedOut()
					}
					return "", fmt.Errorf("node %s: read while waiting for a pod CIDR: %w", name, err)
				}
				continue
			}
		}
		log.Info("pod CIDR assigned", zap.String("node", name), zap.String("podCIDR", cidr))
		return cidr, nil
	}
}

// watchPodCIDR watches the Node from resourceVersion rv until it has a
// spec.podCIDR, which it returns, or the watch ends.
func watchPodCIDR(ctx context.Context, cs *clientset.Set, name, rv string) (string, error) {
	w, err := cs.Nodes().Watch(ctx, &metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv})
	if err != nil {
		return "", fmt.Errorf("watch node %s: %w", name, err)
	}
	for {
		ev, err := w.Recv()
		if err != nil {
			return "", fmt.Errorf("watch node %s: %w", name, err)
		}
		if o := ev.GetObject(); o.GetMetadata().GetName() == name && o.GetSpec().GetPodCidr() != "" {
			return o.GetSpec().GetPodCidr(), nil
		}
	}
}
