package server

import (
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// CodecOption makes the server decode request messages in the services
// that Register adds rather than in grpc-go: grpc-go answers a message it
// cannot decode with Internal, written before any handler or interceptor
// runs, while a malformed request is the client's error (InvalidArgument,
// interceptors.go). A server serving Register's services must use it.
func CodecOption() grpc.ServerOption { return grpc.ForceServerCodecV2(codec{}) }

// codec is grpc-go's protobuf codec, except that it hands a rawMessage its
// bytes undecoded.
type codec struct{}

// rawMessage receives a request's bytes for the service wrappers to decode.
type rawMessage struct{ data []byte }

func protoCodec() encoding.CodecV2 { return encoding.GetCodecV2("proto") }

func (codec) Marshal(v any) (mem.BufferSlice, error) { return protoCodec().Marshal(v) }

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawMessage); ok {
		r.data = data.Materialize()
		return nil
	}
	return protoCodec().Unmarshal(data, v)
}

func (codec) Name() string { return "proto" }

var _ encoding.CodecV2 = codec{}

// errNotProto is a programming error: a service message that is not protobuf.
func errNotProto(m any) error { return fmt.Errorf("server: request %T is not a protobuf message", m) }

// Bytes are the undecoded request; the authoriser's stream interceptor,
// which runs before the service decodes, reads the first request from them.
func (r *rawMessage) Bytes() []byte { return r.data }
