package probe

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// grpcCheck asks the container's gRPC health service (grpc.health.v1) about
// the probe's service; SERVING passes.
func grpcCheck(ctx context.Context, g *corev1.GRPCAction, t Target) (bool, string) {
	h, err := host("", t)
	if err != nil {
		return false, err.Error()
	}
	if g.GetPort() < 1 || g.GetPort() > 65535 {
		return false, fmt.Sprintf("invalid port number %d", g.GetPort())
	}
	addr := net.JoinHostPort(h, strconv.Itoa(int(g.GetPort())))
	conn, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("kube-probe/tugboat"))
	if err != nil {
		return false, fmt.Sprintf("gRPC probe %s: %v", addr, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.GetService()})
	if err != nil {
		return false, fmt.Sprintf("gRPC probe %s: %v", addr, err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return false, fmt.Sprintf("service unhealthy (responded with %q)", s)
	}
	return true, ""
}
