// Package archive reads and writes the project's image archives: OCI image
// layouts packed in a tar (oci-layout, index.json, blobs/sha256/...), the
// format `ctr images import` accepts, with the image's name in the
// index.json annotations.
package archive

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Registry is the registry host of every image the project builds. It is
// never resolved on the network: containerd reaches it through a mirror (the
// kubelet's loopback registry) or the images are imported directly.
const Registry = "tugboat.local"

// The names of the images the project builds.
const (
	// Pause is the sandbox image: /pause holds a pod's namespaces.
	Pause = Registry + "/pause:latest"
	// Sise is the sample HTTP service of the tutorials (port 9876).
	Sise = Registry + "/sise:0.5.0"
	// Shell is a busybox shell image.
	Shell = Registry + "/shell:latest"
)

// Annotation keys written on the image's descriptor in index.json.
const (
	// AnnotationRefName holds the tag ("latest"), as the OCI spec says.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName holds the full name, which containerd's importer
	// uses as the image name.
	AnnotationImageName = "io.containerd.image.name"
)

// Names returns the names of the images the project builds, in build order.
func Names() []string {
	return []string{Pause, Sise, Shell}
}

// FileName returns the archive file name of an image: the last element of
// its repository plus ".tar" (tugboat.local/pause:latest -> pause.tar).
func FileName(tag name.Tag) string {
	repo := tag.RepositoryStr()
	return repo[strings.LastIndex(repo, "/")+1:] + ".tar"
}

// Image is an image read from an archive.
type Image struct {
	// Tag is the image's full name, e.g. tugboat.local/pause:latest.
	Tag name.Tag
	// Image is the image; its blobs are held in memory.
	Image v1.Image
	// Path is the archive it was read from.
	Path string
}

// LoadDir reads every *.tar archive in dir, in file name order.
func LoadDir(dir string) ([]Image, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil {
		return nil, fmt.Errorf("archive: list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("archive: no *.tar image archives in %s", dir)
	}
	imgs := make([]Image, 0, len(paths))
	for _, p := range paths {
		tag, img, err := Load(p)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, Image{Tag: tag, Image: img, Path: p})
	}
	return imgs, nil
}
