package observe

import (
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
)

// latencyBuckets suit API calls: from half a millisecond to ten seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// GRPCServerMetrics returns gRPC server metrics named
// tugboat_<component>_grpc_server_* (requests by method and code, handling
// latency), registered on the server's registry. Use its
// UnaryServerInterceptor and StreamServerInterceptor.
func (s *Server) GRPCServerMetrics(component string) *grpcprom.ServerMetrics {
	m := grpcprom.NewServerMetrics(
		grpcprom.WithServerCounterOptions(grpcprom.WithNamespace("tugboat_"+component)),
		grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramNamespace("tugboat_"+component),
			grpcprom.WithHistogramBuckets(latencyBuckets),
		),
	)
	s.Registry.MustRegister(m)
	return m
}

// GRPCClientMetrics returns gRPC client metrics named tugboat_<component>_grpc_client_*.
func (s *Server) GRPCClientMetrics(component string) *grpcprom.ClientMetrics {
	m := grpcprom.NewClientMetrics(
		grpcprom.WithClientCounterOptions(grpcprom.WithNamespace("tugboat_"+component)),
		grpcprom.WithClientHandlingTimeHistogram(
			grpcprom.WithHistogramNamespace("tugboat_"+component),
			grpcprom.WithHistogramBuckets(latencyBuckets),
		),
	)
	s.Registry.MustRegister(m)
	return m
}

// Registerer is the registry as a prometheus.Registerer.
func (s *Server) Registerer() prometheus.Registerer { return s.Registry }
