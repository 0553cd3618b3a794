// Package manifest reads and writes objects the way users write them: YAML
// or JSON manifests with Kubernetes field names, one or many documents per
// file, decoded strictly into the generated proto messages of the kinds in
// machinery/scheme, and encoded back to JSON or YAML.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Decode reads every object of a manifest: multi-document YAML (documents
// separated by "---") or a stream of JSON objects. Empty documents are
// skipped; a List ("kind: List", or a typed list such as PodList) is
// flattened into its items. Each object's apiVersion and kind must name a
// kind of the scheme, and every field must be known to it.
func Decode(data []byte) ([]proto.Message, error) {
	docs, err := split(data)
	if err != nil {
		return nil, err
	}
	var out []proto.Message
	for i, doc := range docs {
		objs, err := decodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// DecodeInto decodes a manifest holding exactly one object into m. When the
// document carries apiVersion and kind they must be m's; when it carries
// none, m alone says what the document is.
func DecodeInto(data []byte, m proto.Message) error {
	docs, err := split(data)
	if err != nil {
		return err
	}
	var objs []map[string]any
	for i, doc := range docs {
		obj, err := toObject(doc)
		if err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	if len(objs) != 1 {
		return fmt.Errorf("want exactly one object, found %d", len(objs))
	}
	obj := objs[0]
	apiVersion, kind := typeMeta(obj)
	if wantVersion, wantKind, ok := typeOf(m); ok && (apiVersion != "" || kind != "") {
		if apiVersion != wantVersion || kind != wantKind {
			return fmt.Errorf("manifest is %s %q, want %s %q", apiVersion, kind, wantVersion, wantKind)
		}
	}
	if err := unmarshal(obj, m); err != nil {
		return fmt.Errorf("%s: %w", describe(obj), err)
	}
	return nil
}

// split cuts a manifest into documents, each a JSON text.
func split(data []byte) ([][]byte, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var docs [][]byte
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			if err != nil {
				return nil, fmt.Errorf("document %d: malformed JSON: %w", len(docs)+1, err)
			}
			docs = append(docs, raw)
		}
	}
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: malformed YAML: %w", len(docs)+1, err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: malformed YAML: %w", len(docs)+1, err)
		}
		docs = append(docs, j)
	}
}

// toObject parses one JSON document; an empty document is nil.
func toObject(doc []byte) (map[string]any, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber() // keep numbers as written, for the type checks and re-encoding
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("malformed document: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a document must be an object with apiVersion and kind, got %s", jsonType(v))
	}
	return obj, nil
}

func decodeDocument(doc []byte) ([]proto.Message, error) {
	obj, err := toObject(doc)
	if obj == nil || err != nil {
		return nil, err
	}
	apiVersion, kind := typeMeta(obj)
	itemKind, isList := listOf(apiVersion, kind)
	if !isList {
		m, err := decodeObject(obj)
		if err != nil {
			return nil, err
		}
		return []proto.Message{m}, nil
	}
	items, ok := obj["items"].([]any)
	if !ok && obj["items"] != nil {
		return nil, fmt.Errorf("%s: items: expected array, got %s", kind, jsonType(obj["items"]))
	}
	out := make([]proto.Message, 0, len(items))
	for i, it := range items {
		item, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s item %d: expected object, got %s", kind, i, jsonType(it))
		}
		// Items of a typed list (PodList) may leave their type to the list.
		if itemKind.Kind != "" {
			if _, ok := item["apiVersion"]; !ok {
				item["apiVersion"] = itemKind.APIVersion()
			}
			if _, ok := item["kind"]; !ok {
				item["kind"] = itemKind.Kind
			}
		}
		m, err := decodeObject(item)
		if err != nil {
			return nil, fmt.Errorf("%s item %d: %w", kind, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// listOf says whether apiVersion/kind is a list: the generic v1 List, or
// the list of a kind of the scheme (whose items kind it returns).
func listOf(apiVersion, kind string) (scheme.Kind, bool) {
	if apiVersion == "v1" && kind == "List" {
		return scheme.Kind{}, true
	}
	if base, ok := strings.CutSuffix(kind, "List"); ok {
		return scheme.ByKind(apiVersion, base)
	}
	return scheme.Kind{}, false
}

func decodeObject(obj map[string]any) (proto.Message, error) {
	apiVersion, kind := typeMeta(obj)
	if apiVersion == "" || kind == "" {
		return nil, fmt.Errorf("object has no apiVersion or kind (apiVersion %q, kind %q)", apiVersion, kind)
	}
	k, ok := scheme.ByKind(apiVersion, kind)
	if !ok {
		return nil, unknownKind(apiVersion, kind)
	}
	m := k.New()
	if err := unmarshal(obj, m); err != nil {
		return nil, fmt.Errorf("%s: %w", describe(obj), err)
	}
	return m, nil
}

func unknownKind(apiVersion, kind string) error {
	for _, k := range scheme.All() {
		if k.Kind == kind {
			return fmt.Errorf("unknown kind %q in apiVersion %q (%s is served as %s)", kind, apiVersion, kind, k.APIVersion())
		}
	}
	return fmt.Errorf("unknown kind %q in apiVersion %q", kind, apiVersion)
}

// unmarshal checks obj against m's fields, then decodes it with protojson.
func unmarshal(obj map[string]any, m proto.Message) error {
	if err := check(obj, m.ProtoReflect().Descriptor(), ""); err != nil {
		return err
	}
	j, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("re-encode document: %w", err)
	}
	if err := protojson.Unmarshal(j, m); err != nil {
		return fmt.Errorf("decode %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

func typeMeta(obj map[string]any) (apiVersion, kind string) {
	apiVersion, _ = obj["apiVersion"].(string)
	kind, _ = obj["kind"].(string)
	return apiVersion, kind
}

// describe names an object in errors: Pod "second-pod".
func describe(obj map[string]any) string {
	_, kind := typeMeta(obj)
	if kind == "" {
		kind = "object"
	}
	meta, _ := obj["metadata"].(map[string]any)
	if name, _ := meta["name"].(string); name != "" {
		return fmt.Sprintf("%s %q", kind, name)
	}
	return kind
}
