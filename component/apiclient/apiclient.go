// Package apiclient connects a component to the apiserver the way every
// component does: its kubeconfig, the client's request metrics and the gRPC
// client metrics on the component's registry, and a receive limit large
// enough for big lists.
package apiclient

import (
	"context"
	"fmt"

	"github.com/tugboat-sh/tugboat/client/config"
	"github.com/tugboat-sh/tugboat/component/observe"
	"google.golang.org/grpc"
)

// MaxMessageBytes is the largest answer a component accepts: a list of
// every pod of a big cluster fits.
const MaxMessageBytes = 64 << 20

// Dial loads the kubeconfig at path (empty: $KUBECONFIG, then
// ~/.kube/config) and opens one connection to the apiserver it names, with
// metrics registered on obs's registry under tugboat_<component>_.
func Dial(ctx context.Context, obs *observe.Server, path, component string) (*grpc.ClientConn, error) {
	kc, err := config.Load(path, "")
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %q: %w", path, err)
	}
	clientMetrics, err := config.NewMetrics(obs.Registry)
	if err != nil {
		return nil, fmt.Errorf("client metrics: %w", err)
	}
	grpcMetrics := obs.GRPCClientMetrics(component)
	opts := append(clientMetrics.DialOptions(),
		grpc.WithChainUnaryInterceptor(grpcMetrics.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(grpcMetrics.StreamClientInterceptor()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes)))
	conn, err := config.Dial(ctx, kc, opts...)
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	return conn, nil
}
