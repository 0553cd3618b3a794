package app

import (
	"context"
	"fmt"
	"time"

	"github.com/tugboat-sh/tugboat/client/clientset"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/kubelet/node"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// podCIDRWait bounds the wait for the node IPAM's block.
const podCIDRWait = 2 * time.Minute

// nodePodCIDR returns the pod CIDR this node should use: its Node's
// spec.podCIDR when the Node exists with one (allocated by the
// controller-manager's node IPAM, or kept from an earlier registration),
// otherwise --pod-cidr; with neither, the Node is registered without one
// and the block the node IPAM assigns is waited for (podCIDRWait). A
// spec.podCIDR that fails the flag's checks (private, inside
// --cluster-cidr) is an error, not silently ignored.
func nodePodCIDR(ctx context.Context, cs *clientset.Set, cfg Config, log *zap.Logger) (string, error) {
	n, err := cs.Nodes().Get(ctx, &metav1.GetOptions{Name: cfg.NodeName})
	if err != nil && status.Code(err) != codes.NotFound {
		return "", fmt.Errorf("read node %s for its pod CIDR: %w", cfg.NodeName, err)
	}
	fromNode := n.GetSpec().GetPodCidr()
	if fromNode == "" && cfg.PodCIDR == "" {
		labels, _ := parseLabels(cfg.Labels)
		if fromNode, err = node.WaitForPodCIDR(ctx, cs, cfg.NodeName, nodeLabels(cfg.NodeName, labels), podCIDRWait, log); err != nil {
			return "", err
		}
	}
	return choosePodCIDR(fromNode, cfg, log)
}

func choosePodCIDR(fromNode string, cfg Config, log *zap.Logger) (string, error) {
	if fromNode == "" || fromNode == cfg.PodCIDR {
		return cfg.PodCIDR, nil
	}
	if errs := validateCIDRs(fromNode, cfg.ClusterCIDR, cfg.ServiceCIDR); len(errs) > 0 {
		return "", fmt.Errorf("node %s spec.podCIDR: %v", cfg.NodeName, errs[0])
	}
	log.Info("pod CIDR from the node's spec.podCIDR", zap.String("podCIDR", fromNode), zap.String("flag", cfg.PodCIDR))
	return fromNode, nil
}
