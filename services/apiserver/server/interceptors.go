package server

import (
	"context"

	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/grpc"
)

// ErrorUnary converts every handler error to a gRPC status: the one place
// where internal errors become API errors on the wire.
func ErrorUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil {
		return nil, apierr.FromError(err).Err()
	}
	return resp, nil
}

// ErrorStream is ErrorUnary for streams.
func ErrorStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := h(srv, ss); err != nil {
		return apierr.FromError(err).Err()
	}
	return nil
}
