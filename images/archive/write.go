package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Epoch is the fixed time stamped on every archive entry, so that the same
// image always gives the same bytes.
var Epoch = time.Unix(0, 0).UTC()

// Write writes img as tag into a new archive at path: go-containerregistry's
// OCI layout written to a temporary directory, then packed into a tar with
// fixed modes, owners and times, so the same image gives the same file.
func Write(path string, tag name.Tag, img v1.Image) error {
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("archive: config of %s: %w", tag, err)
	}
	tmp, err := os.MkdirTemp("", "tugboat-layout-")
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer os.RemoveAll(tmp)

	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("archive: layout for %s: %w", tag, err)
	}
	err = lp.AppendImage(img,
		layout.WithAnnotations(map[string]string{
			AnnotationRefName:   tag.TagStr(),
			AnnotationImageName: tag.Name(),
		}),
		layout.WithPlatform(v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}),
	)
	if err != nil {
		return fmt.Errorf("archive: write %s into layout: %w", tag, err)
	}
	if err := packDir(tmp, path); err != nil {
		return fmt.Errorf("archive: pack %s: %w", tag, err)
	}
	return nil
}

// packDir writes the tree under dir as a tar at path. WalkDir visits names in
// lexical order, which keeps the tar's order stable.
func packDir(dir, path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: Epoch}
		if d.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			return tw.WriteHeader(hdr)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
