package app

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/client/clientset"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nodePodCIDR returns the pod CIDR this node should use: its Node's
// spec.podCIDR when the Node exists with one (allocated by the
// controller-manager's node IPAM, or kept from an earlier registration),
// otherwise --pod-cidr. A spec.podCIDR that fails the flag's checks
// (private, inside --cluster-cidr) is an error, not silently ignored.
func nodePodCIDR(ctx context.Context, cs *clientset.Set, cfg Config, log *zap.Logger) (string, error) {
	n, err := cs.Nodes().Get(ctx, &metav1.GetOptions{Name: cfg.NodeName})
	switch {
	case status.Code(err) == codes.NotFound:
		return cfg.PodCIDR, nil
	case err != nil:
		return "", fmt.Errorf("read node %s for its pod CIDR: %w", cfg.NodeName, err)
	}
	return choosePodCIDR(n.GetSpec().GetPodCidr(), cfg, log)
}

func choosePodCIDR(fromNode string, cfg Config, log *zap.Logger) (string, error) {
	if fromNode == "" || fromNode == cfg.PodCIDR {
		return cfg.PodCIDR, nil
	}
	if errs := validateCIDRs(fromNode, cfg.ClusterCIDR, cfg.ServiceCIDR); len(errs) > 0 {
		return "", fmt.Errorf("node %s spec.podCIDR: %v", cfg.NodeName, errs[0])
	}
	log.Info("pod CIDR from the node's spec.podCIDR, not --pod-cidr", zap.String("podCIDR", fromNode), zap.String("flag", cfg.PodCIDR))
	return fromNode, nil
}
