package archive

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func testImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	img := testImage(t)
	tag := mustTag(t, Pause)
	path := filepath.Join(dir, FileName(tag))
	if err := Write(path, tag, img); err != nil {
		t.Fatal(err)
	}
	gotTag, got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotTag.Name() != Pause {
		t.Errorf("tag = %q, want %q", gotTag.Name(), Pause)
	}
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want {
		t.Errorf("digest = %s, want %s", d, want)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("loaded image does not validate: %v", err)
	}

	// Writing the same image again gives the same bytes.
	again := filepath.Join(dir, "again.tar")
	if err := Write(again, tag, img); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same image differ")
	}

	imgs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || imgs[0].Path != again || imgs[1].Path != path {
		t.Errorf("LoadDir = %+v, want again.tar then pause.tar", imgs)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ ref, want string }{
		{Pause, "pause.tar"},
		{Sise, "sise.tar"},
		{Shell, "shell.tar"},
		{"example.com/a/b/tool:v1", "tool.tar"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if got := FileName(mustTag(t, tt.ref)); got != tt.want {
				t.Errorf("FileName = %q, want %q", got, tt.want)
			}
		})
	}
	if n := Names(); len(n) != 3 || n[0] != Pause {
		t.Errorf("Names() = %v", n)
	}
}

// writeTar writes files (in the given order) into a tar at path.
func writeTar(t *testing.T, path string, files [][2]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	const layoutFile = `{"imageLayoutVersion":"1.0.0"}`
	const manifest = `{"schemaVersion":2}`
	const manifestDigest = "sha256:dc1d2d8ee5d1e6bd7a31a0b0e6a9c2d9b1d1d3d4e1f5a0c4d1b3d2e5f6a7b8c9"
	index := func(annotations string) string {
		return `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":19,"digest":"` +
			manifestDigest + `","annotations":{` + annotations + `}}]}`
	}
	tests := []struct {
		name  string
		files [][2]string
		want  string
	}{
		{"not a layout", [][2]string{{"manifest.json", "[]"}}, "no oci-layout"},
		{"no index", [][2]string{{"oci-layout", layoutFile}}, "no index.json"},
		{"bad index", [][2]string{{"oci-layout", layoutFile}, {"index.json", "{"}}, "index.json"},
		{"two manifests", [][2]string{{"oci-layout", layoutFile}, {"index.json", `{"schemaVersion":2,"manifests":[{},{}]}`}}, "2 manifests"},
		{"no name", [][2]string{{"oci-layout", layoutFile}, {"index.json", index(`"org.opencontainers.image.ref.name":"latest"`)}}, "no image name"},
		{"bad name", [][2]string{{"oci-layout", layoutFile}, {"index.json", index(`"io.containerd.image.name":"Bad/Name:x"`)}}, "annotation"},
		{"corrupt blob", [][2]string{
			{"oci-layout", layoutFile},
			{"index.json", index(`"io.containerd.image.name":"tugboat.local/x:1"`)},
			{"blobs/sha256/" + strings.TrimPrefix(manifestDigest, "sha256:"), manifest},
		}, "has digest"},
		{"missing manifest", [][2]string{{"oci-layout", layoutFile}, {"index.json", index(`"io.containerd.image.name":"tugboat.local/x:1"`)}}, "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.tar")
			writeTar(t, path, tt.files)
			_, _, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := LoadDir(t.TempDir()); err == nil {
		t.Error("LoadDir of an empty directory: no error")
	}
}
