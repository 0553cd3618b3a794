package manifest

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/machinery/scheme"
)

// TestSeedManifestsRoundTrip decodes every manifest under testdata and
// checks that encoding each object again gives the JSON of the original
// document: nothing is lost, renamed or retyped on the way through proto.
func TestSeedManifestsRoundTrip(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".json")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d testdata manifests, want the seed manifests (>= 20)", len(files))
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			docs, err := split(data)
			if err != nil {
				t.Fatal(err)
			}
			var want []map[string]any
			for _, d := range docs {
				var m map[string]any
				if err := json.Unmarshal(d, &m); err != nil {
					t.Fatal(err)
				}
				if m != nil {
					want = append(want, m)
				}
			}
			if len(objs) != len(want) || len(objs) == 0 {
				t.Fatalf("decoded %d objects from %d documents", len(objs), len(want))
			}
			for i, obj := range objs {
				k, ok := scheme.ForMessage(obj)
				if !ok || k.Kind != want[i]["kind"] {
					t.Errorf("object %d decoded as %T, document says %v", i, obj, want[i]["kind"])
				}
				out, err := EncodeJSON(obj)
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want[i]) {
					w, _ := json.MarshalIndent(want[i], "", "  ")
					t.Errorf("object %d: re-encoded JSON differs from the manifest\ngot:  %s\nwant: %s", i, out, w)
				}
			}
		})
	}
}
