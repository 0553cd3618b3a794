// Package cri connects the kubelet to a CRI v1 runtime (containerd, or the
// in-memory fakeruntime of hollow nodes) and names the labels the kubelet
// puts on sandboxes and containers to find its pods again after a restart.
package cri

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels on every sandbox and container the kubelet creates (the same keys
// as Kubernetes' kubelet, so `crictl pods` shows familiar names).
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	// LabelManagedBy marks what this project made, so that cleaning up never
	// touches anything else in a shared runtime.
	LabelManagedBy = "io.tugboat.managed-by"
	ManagedBy      = "tug-kubelet"
)

// Runtime is the two CRI services over one connection.
type Runtime struct {
	runtimeapi.RuntimeServiceClient
	runtimeapi.ImageServiceClient
	conn *grpc.ClientConn
}

// New wraps an existing connection.
func New(conn grpc.ClientConnInterface) *Runtime {
	return &Runtime{RuntimeServiceClient: runtimeapi.NewRuntimeServiceClient(conn), ImageServiceClient: runtimeapi.NewImageServiceClient(conn)}
}

// Dial connects to endpoint (unix:///run/containerd/containerd.sock) and
// checks that a CRI v1 runtime answers there within timeout.
func Dial(ctx context.Context, endpoint string, timeout time.Duration, opts ...grpc.DialOption) (*Runtime, *runtimeapi.VersionResponse, error) {
	if !strings.HasPrefix(endpoint, "unix://") && !strings.HasPrefix(endpoint, "passthrough:") {
		return nil, nil, fmt.Errorf("runtime endpoint %q: want unix:///path/to/socket", endpoint)
	}
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16 << 20)),
	}, opts...)
	conn, err := grpc.NewClient(endpoint, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("runtime endpoint %q: %w", endpoint, err)
	}
	rt := New(conn)
	rt.conn = conn
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := rt.Version(cctx, &runtimeapi.VersionRequest{}, grpc.WaitForReady(true))
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("runtime endpoint %q does not answer CRI v1 Version: %w", endpoint, err)
	}
	return rt, v, nil
}

// Close closes the connection Dial opened.
func (r *Runtime) Close() error {
	if r.conn == nil {
		return nil
	}
	return r.conn.Close()
}
