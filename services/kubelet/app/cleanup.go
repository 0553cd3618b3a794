package app

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tugboat-sh/tugboat/services/kubelet/containerd"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/network"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var goarch = runtime.GOARCH

// cleanup removes what a kubelet made on this host: every Tugboat sandbox
// in its runtime (with their containers and network namespaces), the pod
// bridge, the guard routes and the IPAM state.
func cleanup(ctx context.Context, cfg Config, log *zap.Logger) error {
	endpoint := cfg.RuntimeEndpoint
	var errs []error
	if cfg.ManagedContainerd {
		cc := cfg.containerdConfig()
		if cfg.PodCIDR == "" {
			// Without --pod-cidr (the node IPAM's block, unknown here) the
			// config only lets containerd start and run CNI DEL, which
			// releases addresses by container, whatever the range.
			cfg.PodCIDR = placeholderPodCIDR(cfg.ClusterCIDR)
		}
		if err := cfg.writeCNIConfig(cc.CNIConfDir()); err != nil {
			return err
		}
		p, err := containerd.Start(ctx, cc, nil, log)
		if err != nil {
			return err
		}
		defer p.Stop(10 * time.Second)
		endpoint = cc.Endpoint()
	}
	if endpoint != "" {
		if err := removeSandboxes(ctx, endpoint, log); err != nil {
			errs = append(errs, err)
		}
	}
	// The sandboxes are gone: nothing uses the pods' volumes any more.
	if err := volume.New(cfg.volumeDir(), volume.System{}, nil).TeardownAll(); err != nil {
		errs = append(errs, fmt.Errorf("remove pod volumes: %w", err))
	}
	if err := network.RemoveBridge(); err != nil {
		errs = append(errs, err)
	}
	if err := network.RemoveGuard(netip.MustParsePrefix(cfg.ClusterCIDR), netip.MustParsePrefix(cfg.ServiceCIDR)); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(cfg.RootDir, "ipam")); err != nil {
		errs = append(errs, fmt.Errorf("remove IPAM state: %w", err))
	}
	return errors.Join(errs...)
}

func removeSandboxes(ctx context.Context, endpoint string, log *zap.Logger) error {
	rt, _, err := cri.Dial(ctx, endpoint, 30*time.Second)
	if err != nil {
		return err
	}
	defer rt.Close()
	sbs, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{cri.LabelManagedBy: cri.ManagedBy}}})
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	var errs []error
	for _, s := range sbs.GetItems() {
		if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			errs = append(errs, fmt.Errorf("stop sandbox %s: %w", s.GetId(), err))
			continue
		}
		if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.GetId()}); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox %s: %w", s.GetId(), err))
			continue
		}
		log.Info("sandbox removed", zap.String("sandbox", s.GetId()), zap.String("pod", s.GetMetadata().GetNamespace()+"/"+s.GetMetadata().GetName()))
	}
	return errors.Join(errs...)
}

// placeholderPodCIDR is the first /24 of the cluster CIDR (Validate has
// parsed it).
func placeholderPodCIDR(cluster string) string {
	p := netip.MustParsePrefix(cluster).Masked()
	return netip.PrefixFrom(p.Addr(), max(p.Bits(), 24)).String()
}
