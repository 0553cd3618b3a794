package manifest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// check walks a decoded JSON object against a message descriptor, as
// Kubernetes' strict decoding does, and reports the first field the
// message does not have, or the first value of the wrong type, by its path
// in the manifest ("spec.containers[0].imagee"). Only camelCase JSON names
// are accepted. Whatever passes is then decoded by protojson.
func check(v any, md protoreflect.MessageDescriptor, path string) error {
	if v == nil {
		return nil
	}
	switch md.FullName() {
	case "google.protobuf.Value":
		// Every Value in the API is an int-or-string (targetPort, maxSurge).
		switch v.(type) {
		case string, json.Number:
			return nil
		}
		return typeError(path, "integer or string", v)
	case "google.protobuf.Timestamp":
		s, ok := v.(string)
		if !ok {
			return typeError(path, "RFC 3339 time string", v)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%s: invalid time %q: want RFC 3339, e.g. 2017-07-22T15:31:29Z", path, s)
		}
		return nil
	}
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // other well-known types: protojson checks them
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return typeError(path, "object", v)
	}
	for _, k := range sortedKeys(obj) {
		p := join(path, k)
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			return fmt.Errorf("unknown field %q", p)
		}
		if err := checkField(obj[k], fd, p); err != nil {
			return err
		}
	}
	return nil
}

func checkField(v any, fd protoreflect.FieldDescriptor, path string) error {
	if v == nil {
		return nil
	}
	switch {
	case fd.IsMap():
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(path, "object", v)
		}
		for _, k := range sortedKeys(m) {
			if err := checkValue(m[k], fd.MapValue(), fmt.Sprintf("%s[%s]", path, k)); err != nil {
				return err
			}
		}
		return nil
	case fd.IsList():
		l, ok := v.([]any)
		if !ok {
			return typeError(path, "array", v)
		}
		for i, e := range l {
			if err := checkValue(e, fd, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return checkValue(v, fd, path)
}

func checkValue(v any, fd protoreflect.FieldDescriptor, path string) error {
	if v == nil {
		return nil
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return check(v, fd.Message(), path)
	case protoreflect.StringKind:
		if _, ok := v.(string); !ok {
			return typeError(path, "string", v)
		}
	case protoreflect.BytesKind:
		s, ok := v.(string)
		if !ok {
			return typeError(path, "base64 string", v)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return fmt.Errorf("%s: invalid base64 data: %w", path, err)
		}
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			return typeError(path, "boolean", v)
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind, protoreflect.EnumKind:
		if _, ok := v.(json.Number); !ok {
			return typeError(path, "number", v)
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return checkInt(v, path, "32-bit integer", func(s string) error { _, err := strconv.ParseInt(s, 10, 32); return err })
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return checkInt(v, path, "unsigned 32-bit integer", func(s string) error { _, err := strconv.ParseUint(s, 10, 32); return err })
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// protojson writes 64-bit integers as strings, so read them back.
		if s, ok := v.(string); ok {
			v = json.Number(s)
		}
		return checkInt(v, path, "64-bit integer", func(s string) error { _, err := strconv.ParseInt(s, 10, 64); return err })
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if s, ok := v.(string); ok {
			v = json.Number(s)
		}
		return checkInt(v, path, "unsigned 64-bit integer", func(s string) error { _, err := strconv.ParseUint(s, 10, 64); return err })
	}
	return nil
}

func checkInt(v any, path, want string, parse func(string) error) error {
	n, ok := v.(json.Number)
	if !ok || parse(n.String()) != nil {
		return typeError(path, want, v)
	}
	return nil
}

func typeError(path, want string, v any) error {
	return fmt.Errorf("%s: expected %s, got %s", path, want, jsonType(v))
}

// jsonType describes a decoded JSON value for an error message.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case json.Number:
		return "number " + x.String()
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
