package main

import (
	"context"
	"errors"
	"fmt"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The watchers of the watch measurement share the apiserver's two cores, so
// they read only what they need from each event's wire bytes (its type and
// the pod's name) instead of decoding the whole pod: a full decode is the
// watching client's cost, not the server's.

// rawMessage receives a message's bytes undecoded.
type rawMessage struct{ b []byte }

// rawCodec marshals requests as protobuf and hands responses over as bytes.
type rawCodec struct{ proto encoding.CodecV2 }

// Name is empty so the call keeps the content-type "application/grpc": a
// forced codec's name becomes a content subtype ("application/grpc+proto"),
// which the apiserver's port multiplexer does not route to gRPC (it matches
// the content-type exactly).
func (c rawCodec) Name() string { return "" }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	m.b = data.Materialize()
	return nil
}

// watchPodNames opens a pod watch on conn whose next returns the name of the
// next ADDED pod.
func watchPodNames(ctx context.Context, conn *grpc.ClientConn, ns string) (next func() (string, error), err error) {
	codec := rawCodec{proto: encoding.GetCodecV2("proto")}
	stream, err := conn.NewStream(ctx, &corev1.PodService_ServiceDesc.Streams[0], corev1.PodService_Watch_FullMethodName, grpc.ForceCodecV2(codec))
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(&metav1.ListOptions{Namespace: ns}); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	return func() (string, error) {
		for {
			var m rawMessage
			if err := stream.RecvMsg(&m); err != nil {
				return "", err
			}
			typ, name, err := eventTypeAndName(m.b)
			if err != nil {
				return "", err
			}
			if typ == "ADDED" {
				return name, nil
			}
		}
	}, nil
}

// Field numbers of PodWatchEvent (type 1, object 2), Pod (metadata 3) and
// ObjectMeta (name 1).
const (
	fieldEventType   = 1
	fieldEventObject = 2
	fieldPodMetadata = 3
	fieldMetaName    = 1
)

// eventTypeAndName reads a PodWatchEvent's type and its pod's name.
func eventTypeAndName(b []byte) (typ, name string, err error) {
	t, _ := bytesField(b, fieldEventType)
	obj, _ := bytesField(b, fieldEventObject)
	meta, _ := bytesField(obj, fieldPodMetadata)
	n, ok := bytesField(meta, fieldMetaName)
	if t == nil {
		return "", "", errors.New("watch event without a type")
	}
	if !ok && string(t) != "BOOKMARK" {
		return "", "", fmt.Errorf("%s watch event without a pod name", t)
	}
	return string(t), string(n), nil
}

// bytesField returns the last length-delimited field num of a message.
func bytesField(b []byte, num protowire.Number) ([]byte, bool) {
	var out []byte
	found := false
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return nil, false
			}
			out, found = v, true
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
	}
	return out, found
}

// podCreator sends pod creates as prepared wire bytes and does not decode
// the answers, so that the client's share of the two cores matches the raw
// etcd baseline's, which also sends prepared bytes. Each request is the
// template pod's bytes followed by a metadata field holding only the name:
// a protobuf decoder merges it into the template's metadata.
type podCreator struct {
	conn     *grpc.ClientConn
	template []byte
	codec    rawCodec
}

func newPodCreator(conn *grpc.ClientConn, template *corev1.Pod) (*podCreator, error) {
	t := proto.CloneOf(template)
	t.Metadata.Name = ""
	b, err := proto.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("marshal the template pod: %w", err)
	}
	return &podCreator{conn: conn, template: b, codec: rawCodec{proto: encoding.GetCodecV2("proto")}}, nil
}

// create creates the template pod under name.
func (p *podCreator) create(ctx context.Context, name string) error {
	meta := protowire.AppendTag(nil, fieldMetaName, protowire.BytesType)
	meta = protowire.AppendString(meta, name)
	req := make([]byte, 0, len(p.template)+len(meta)+8)
	req = append(req, p.template...)
	req = protowire.AppendTag(req, fieldPodMetadata, protowire.BytesType)
	req = protowire.AppendBytes(req, meta)
	var resp rawMessage
	return p.conn.Invoke(ctx, corev1.PodService_Create_FullMethodName, &rawMessage{b: req}, &resp, grpc.ForceCodecV2(p.codec))
}
