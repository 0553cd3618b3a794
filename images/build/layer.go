package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tugboat-sh/tugboat/images/archive"
)

// file is one entry of a layer.
type file struct {
	path string // relative to /, without a leading slash: "bin/sh"
	mode int64  // permission bits, with the sticky bit (01000) where wanted
	data []byte // contents of a regular file
	link string // target of a symbolic link; set means the entry is a link
	dir  bool
}

func dir(p string, mode int64) file                  { return file{path: p, mode: mode, dir: true} }
func regular(p string, mode int64, data []byte) file { return file{path: p, mode: mode, data: data} }
func symlink(p, target string) file                  { return file{path: p, mode: 0o777, link: target} }

// newLayer packs files into an OCI gzip layer. Entries are sorted by path,
// missing parent directories are added (0755), and owners and times are
// fixed, so the same files always give the same digest.
func newLayer(files []file) (v1.Layer, error) {
	byPath := map[string]file{}
	for _, f := range files {
		p := path.Clean(strings.TrimPrefix(f.path, "/"))
		if p == "." || strings.HasPrefix(p, "..") {
			return nil, fmt.Errorf("layer: bad path %q", f.path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("layer: %s listed twice", p)
		}
		f.path = p
		byPath[p] = f
	}
	for p := range byPath {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = dir(d, 0o755)
			} else if !byPath[d].dir {
				return nil, fmt.Errorf("layer: %s is a file and a parent directory", d)
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		hdr := &tar.Header{Name: p, Mode: f.mode, ModTime: archive.Epoch, Uname: "root", Gname: "root"}
		switch {
		case f.dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, p+"/"
		case f.link != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.link
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", p, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("layer: %s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(gzip.BestCompression),
		tarball.WithCompressedCaching,
	)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return l, nil
}
