package apply

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tugboat-sh/tugboat/cli/golden"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"google.golang.org/protobuf/proto"
)

func source(t *testing.T, name string) []Source {
	t.Helper()
	s, err := Read(filepath.Join("testdata", name), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBadInput checks that each bad manifest is refused as a whole with an
// error naming the file, the document and the field; the golden files
// hold the messages users see.
func TestBadInput(t *testing.T) {
	cases := []struct {
		file string
		want []string // must appear in the error
	}{
		{"syntax-error.yaml", []string{"testdata/syntax-error.yaml", "document 2", "line 18"}},
		{"unknown-kind.yaml", []string{"testdata/unknown-kind.yaml", "document 2", `unknown kind "Podd"`}},
		{"missing-name.yaml", []string{"document 1", "metadata.name: Required value"}},
		{"wrong-type.yaml", []string{"document 1", "spec.containers[0].ports[0].containerPort", "expected 32-bit integer"}},
		{"invalid.yaml", []string{"document 1", `Pod "Bad_Name"`, "metadata.name", "spec.containers[0].image: Required value"}},
		{"nbsp-value.yaml", []string{"line 4, column 8", "U+00A0"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			objs, err := Decode(source(t, c.file), "default", nil)
			if err == nil {
				t.Fatalf("no error; decoded %d objects", len(objs))
			}
			if len(objs) != 0 {
				t.Errorf("%d objects returned with an error; nothing may be applied", len(objs))
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			golden.Check(t, "error-"+strings.TrimSuffix(c.file, filepath.Ext(c.file)), []byte(err.Error()+"\n"))
		})
	}
}

func TestNonBreakingSpacesInIndentation(t *testing.T) {
	var warn bytes.Buffer
	objs, err := Decode(source(t, "nbsp-indent.yaml"), "default", &warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Obj.(*corev1.Pod).GetSpec().GetContainers()[0].GetImage() != "tugboat.local/sise:0.5.0" {
		t.Fatalf("decoded %v", objs)
	}
	golden.Check(t, "warning-nbsp-indent", warn.Bytes())
	if !strings.Contains(warn.String(), "lines 4, 6, 7, 8") {
		t.Errorf("warning does not name the lines: %s", warn.String())
	}
}

func TestDecodeSources(t *testing.T) {
	objs, err := Decode(source(t, "two.json"), "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Kind.Kind != "Pod" || objs[1].Kind.Kind != "Namespace" {
		t.Fatalf("JSON stream: got %d objects", len(objs))
	}
	objs, err = Decode(source(t, "second-pod.yaml"), "default", nil)
	if err != nil || len(objs) != 1 {
		t.Fatalf("seed second-pod: %v, %d objects", err, len(objs))
	}
	// A directory reads its manifests; standard input is "-".
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.json", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := Read(dir, nil, false)
	if err != nil || len(srcs) != 2 {
		t.Fatalf("directory: %v, %d sources, want 2", err, len(srcs))
	}
	srcs, err = Read("-", strings.NewReader("kind: x"), false)
	if err != nil || srcs[0].Name != "<stdin>" || string(srcs[0].Data) != "kind: x" {
		t.Fatalf("stdin: %v %v", err, srcs)
	}
	if _, err := Read("testdata/nope.yaml", nil, false); err == nil || !strings.Contains(err.Error(), `"testdata/nope.yaml" does not exist`) {
		t.Errorf("missing file: %v", err)
	}
}

// TestSeedTextAsCopied decodes second-pod.yaml exactly as seed 004's page
// has it, non-breaking spaces in the indentation of most lines, to the
// same pod as the clean manifest, with a warning naming the lines.
func TestSeedTextAsCopied(t *testing.T) {
	var warn bytes.Buffer
	copied, err := Decode(source(t, "seed-second-pod-copied.yaml"), "default", &warn)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := Decode(source(t, "second-pod.yaml"), "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) != 1 || !proto.Equal(copied[0].Obj, clean[0].Obj) {
		t.Errorf("the copied manifest decodes to %v, want %v", copied, clean)
	}
	if want := "lines 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 read as spaces"; !strings.Contains(warn.String(), want) {
		t.Errorf("warning %q lacks %q", warn.String(), want)
	}
}
