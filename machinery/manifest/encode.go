package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// marshal writes camelCase JSON names and leaves unpopulated fields out.
var marshal = protojson.MarshalOptions{}

// EncodeJSON writes m as indented JSON with Kubernetes field names, filling
// apiVersion and kind from the scheme when they are empty. m is not
// modified.
func EncodeJSON(m proto.Message) ([]byte, error) {
	m = withTypeMeta(m)
	b, err := marshal.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	// protojson varies its whitespace on purpose; indent for a stable output.
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, fmt.Errorf("indent %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// EncodeYAML writes m as YAML, as EncodeJSON does JSON (keys sorted).
func EncodeYAML(m proto.Message) ([]byte, error) {
	j, err := EncodeJSON(m)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(j)
	if err != nil {
		return nil, fmt.Errorf("convert %s to YAML: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return y, nil
}

// typeOf returns the apiVersion and kind of an object or list message of
// the scheme.
func typeOf(m proto.Message) (apiVersion, kind string, ok bool) {
	k, ok := scheme.ForMessage(m)
	if !ok {
		return "", "", false
	}
	if m.ProtoReflect().Descriptor().FullName() == k.MessageName() {
		return k.APIVersion(), k.Kind, true
	}
	return k.APIVersion(), k.ListKind(), true
}

// withTypeMeta returns m, or a copy of it with its empty apiVersion and
// kind filled in.
func withTypeMeta(m proto.Message) proto.Message {
	apiVersion, kind, ok := typeOf(m)
	if !ok {
		return m
	}
	fields := m.ProtoReflect().Descriptor().Fields()
	fv, fk := fields.ByName("api_version"), fields.ByName("kind")
	if fv == nil || fk == nil {
		return m
	}
	r := m.ProtoReflect()
	if r.Get(fv).String() != "" && r.Get(fk).String() != "" {
		return m
	}
	c := proto.Clone(m)
	cr := c.ProtoReflect()
	if cr.Get(fv).String() == "" {
		cr.Set(fv, protoreflect.ValueOfString(apiVersion))
	}
	if cr.Get(fk).String() == "" {
		cr.Set(fk, protoreflect.ValueOfString(kind))
	}
	return c
}
