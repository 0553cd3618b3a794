package server

import (
	"context"
	"slices"

	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
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

// decodeErrors registers services so that a request message that cannot be
// decoded (malformed protobuf) is a BadRequest (InvalidArgument), not the
// Internal error grpc-go would answer. With CodecOption grpc-go hands over
// the request's bytes undecoded; the unary handlers' dec and the streams'
// RecvMsg decode them here.
type decodeErrors struct{ grpc.ServiceRegistrar }

func (r decodeErrors) RegisterService(sd *grpc.ServiceDesc, impl any) {
	desc := *sd
	desc.Methods = slices.Clone(sd.Methods)
	for i := range desc.Methods {
		h := desc.Methods[i].Handler
		desc.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, func(m any) error { return decode(dec, m) }, in)
		}
	}
	desc.Streams = slices.Clone(sd.Streams)
	for i := range desc.Streams {
		h := desc.Streams[i].Handler
		desc.Streams[i].Handler = func(srv any, ss grpc.ServerStream) error { return h(srv, decodingStream{ss}) }
	}
	r.ServiceRegistrar.RegisterService(&desc, impl)
}

// decodingStream is a server stream whose received messages are decoded by decode.
type decodingStream struct{ grpc.ServerStream }

func (s decodingStream) RecvMsg(m any) error { return decode(s.ServerStream.RecvMsg, m) }

// decode reads a request's bytes with recv and decodes them into m; bytes
// that are not a valid m are a BadRequest.
func decode(recv func(any) error, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return apierr.FromError(errNotProto(m)).Err()
	}
	var raw rawMessage
	if err := recv(&raw); err != nil {
		return err
	}
	if err := proto.Unmarshal(raw.data, msg); err != nil {
		return apierr.FromError(apierr.BadRequest("malformed request message: %v", err)).Err()
	}
	return nil
}
