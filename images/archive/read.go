package archive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Load reads the archive at path: the one image its index.json lists, named
// by its io.containerd.image.name annotation (or a full reference in
// org.opencontainers.image.ref.name). Every blob is read into memory and
// checked against its digest, so the image stays usable after the file is
// gone.
func Load(path string) (name.Tag, v1.Image, error) {
	fail := func(err error) (name.Tag, v1.Image, error) {
		return name.Tag{}, nil, fmt.Errorf("archive: load %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	files, err := readTar(f)
	if err != nil {
		return fail(err)
	}
	if _, ok := files["oci-layout"]; !ok {
		return fail(errors.New("no oci-layout file: not an OCI image layout"))
	}
	rawIndex, ok := files["index.json"]
	if !ok {
		return fail(errors.New("no index.json"))
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(rawIndex))
	if err != nil {
		return fail(fmt.Errorf("index.json: %w", err))
	}
	if len(index.Manifests) != 1 {
		return fail(fmt.Errorf("index.json lists %d manifests, want 1", len(index.Manifests)))
	}
	desc := index.Manifests[0]
	if !desc.MediaType.IsImage() {
		return fail(fmt.Errorf("index.json: %s is not an image manifest", desc.MediaType))
	}
	tag, err := tagOf(desc)
	if err != nil {
		return fail(err)
	}
	blobs := blobStore{}
	for p, b := range files {
		if hex, ok := strings.CutPrefix(p, "blobs/sha256/"); ok {
			if err := blobs.add(hex, b); err != nil {
				return fail(err)
			}
		}
	}
	manifest, err := blobs.get(desc.Digest)
	if err != nil {
		return fail(fmt.Errorf("manifest: %w", err))
	}
	img, err := partial.CompressedToImage(&image{blobs: blobs, manifest: manifest, mediaType: desc.MediaType})
	if err != nil {
		return fail(err)
	}
	if _, err := img.ConfigFile(); err != nil {
		return fail(fmt.Errorf("config: %w", err))
	}
	return tag, img, nil
}

// tagOf names the image a descriptor of index.json points at.
func tagOf(desc v1.Descriptor) (name.Tag, error) {
	for _, key := range []string{AnnotationImageName, AnnotationRefName} {
		if s := desc.Annotations[key]; strings.Contains(s, "/") {
			tag, err := name.NewTag(s, name.StrictValidation)
			if err != nil {
				return name.Tag{}, fmt.Errorf("annotation %s: %w", key, err)
			}
			return tag, nil
		}
	}
	return name.Tag{}, fmt.Errorf("index.json: no image name in the %s or %s annotation", AnnotationImageName, AnnotationRefName)
}

// readTar returns the regular files of a tar by cleaned path.
func readTar(r io.Reader) (map[string][]byte, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tar: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", hdr.Name, err)
		}
		files[path.Clean(strings.TrimPrefix(hdr.Name, "./"))] = b
	}
}

// blobStore holds verified blobs by digest.
type blobStore map[v1.Hash][]byte

func (s blobStore) add(hexDigest string, b []byte) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != hexDigest {
		return fmt.Errorf("blob sha256:%s has digest sha256:%s", hexDigest, got)
	}
	s[v1.Hash{Algorithm: "sha256", Hex: hexDigest}] = b
	return nil
}

func (s blobStore) get(h v1.Hash) ([]byte, error) {
	b, ok := s[h]
	if !ok {
		return nil, fmt.Errorf("blob %s missing", h)
	}
	return b, nil
}

// image is the partial.CompressedImageCore of an image held in a blobStore.
type image struct {
	blobs     blobStore
	manifest  []byte
	mediaType types.MediaType
}

var _ partial.CompressedImageCore = (*image)(nil)

func (i *image) RawConfigFile() ([]byte, error) {
	m, err := partial.Manifest(i)
	if err != nil {
		return nil, err
	}
	return i.blobs.get(m.Config.Digest)
}

func (i *image) MediaType() (types.MediaType, error) { return i.mediaType, nil }

func (i *image) RawManifest() ([]byte, error) { return i.manifest, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := partial.Manifest(i)
	if err != nil {
		return nil, err
	}
	for _, d := range m.Layers {
		if d.Digest == h {
			b, err := i.blobs.get(h)
			if err != nil {
				return nil, err
			}
			return &layer{desc: d, data: b}, nil
		}
	}
	if m.Config.Digest == h {
		return partial.ConfigLayer(i)
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

// layer is a compressed layer held in memory.
type layer struct {
	desc v1.Descriptor
	data []byte
}

func (l *layer) Digest() (v1.Hash, error) { return l.desc.Digest, nil }

func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}

func (l *layer) Size() (int64, error) { return int64(len(l.data)), nil }

func (l *layer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
