package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tugboat-sh/tugboat/machinery/manifest"
	"github.com/tugboat-sh/tugboat/machinery/scheme"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// Name is kind/name as -o name prints it: pod/web, deployment.apps/web.
func Name(k scheme.Kind, obj proto.Message) string {
	return Resource(k) + "/" + metaOf(obj).GetName()
}

// Resource is how messages name a kind: pod, deployment.apps.
func Resource(k scheme.Kind) string {
	if k.Group != "" {
		return k.Singular + "." + k.Group
	}
	return k.Singular
}

// JSON writes one object as a JSON document, several as a v1 List.
func JSON(w io.Writer, objs []proto.Message, single bool) error {
	b, err := document(objs, single)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "    "); err != nil {
		return fmt.Errorf("indent JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// YAML writes one object as a YAML document, several as a v1 List.
func YAML(w io.Writer, objs []proto.Message, single bool) error {
	b, err := document(objs, single)
	if err != nil {
		return err
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return fmt.Errorf("convert to YAML: %w", err)
	}
	_, err = w.Write(y)
	return err
}

func document(objs []proto.Message, single bool) ([]byte, error) {
	if single && len(objs) == 1 {
		return manifest.EncodeJSON(objs[0])
	}
	items := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		b, err := manifest.EncodeJSON(o)
		if err != nil {
			return nil, err
		}
		items[i] = b
	}
	return json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items})
}
