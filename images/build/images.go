package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tugboat-sh/tugboat/images/archive"
)

// pathEnv is the PATH of every image.
const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Go packages compiled into the images.
const (
	pausePkg = "github.com/tugboat-sh/tugboat/images/pause"
	sisePkg  = "github.com/tugboat-sh/tugboat/images/sise"
	hogPkg   = "github.com/tugboat-sh/tugboat/images/hog"
)

// options say where the inputs come from.
type options struct {
	busybox string // static busybox binary
	arch    string // GOARCH of the images
}

// built is an image ready to be written.
type built struct {
	tag name.Tag
	img v1.Image
}

// buildAll compiles the Go programs into tmp and assembles the images, in
// the order of archive.Names.
func buildAll(ctx context.Context, opts options, tmp string) ([]built, error) {
	pause, err := goBuild(ctx, pausePkg, filepath.Join(tmp, "pause"), opts.arch)
	if err != nil {
		return nil, err
	}
	sise, err := goBuild(ctx, sisePkg, filepath.Join(tmp, "sise"), opts.arch)
	if err != nil {
		return nil, err
	}
	hog, err := goBuild(ctx, hogPkg, filepath.Join(tmp, "hog"), opts.arch)
	if err != nil {
		return nil, err
	}
	base, err := busyboxLayer(ctx, opts.busybox)
	if err != nil {
		return nil, err
	}
	pauseLayer, err := newLayer([]file{regular("pause", 0o755, pause)})
	if err != nil {
		return nil, err
	}
	siseLayer, err := newLayer([]file{regular("sise", 0o755, sise)})
	if err != nil {
		return nil, err
	}
	hogLayer, err := newLayer([]file{regular("bin/hog", 0o755, hog)})
	if err != nil {
		return nil, err
	}

	busyboxBy := "busybox " + opts.busybox + " as /bin/busybox, applet links, /etc, /tmp, /root"
	specs := []struct {
		ref    string
		layers []layer
		cfg    v1.Config
	}{
		{archive.Pause, []layer{{pauseLayer, "go build " + pausePkg + " as /pause"}}, v1.Config{
			Entrypoint: []string{"/pause"},
			Env:        []string{pathEnv},
		}},
		// sise gets busybox too, so "kubectl exec ... -- printenv" and a
		// shell in the container work as the tutorials show.
		{archive.Sise, []layer{{base, busyboxBy}, {siseLayer, "go build " + sisePkg + " as /sise"}}, v1.Config{
			Entrypoint:   []string{"/sise"},
			Env:          []string{pathEnv, "SIMPLE_SERVICE_VERSION=0.5.0"},
			ExposedPorts: map[string]struct{}{"9876/tcp": {}},
		}},
		// hog allocates memory, for tests of memory limits.
		{archive.Shell, []layer{{base, busyboxBy}, {hogLayer, "go build " + hogPkg + " as /bin/hog"}}, v1.Config{
			Cmd: []string{"sh"},
			Env: []string{pathEnv},
		}},
	}
	out := make([]built, 0, len(specs))
	for _, s := range specs {
		tag, err := name.NewTag(s.ref)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.ref, err)
		}
		img, err := assemble(s.layers, s.cfg, opts.arch)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.ref, err)
		}
		out = append(out, built{tag: tag, img: img})
	}
	return out, nil
}

// layer is a layer and what made it, for the image's history.
type layer struct {
	layer     v1.Layer
	createdBy string
}

// assemble stacks layers into an OCI image for linux/arch with cfg, created
// at the epoch.
func assemble(layers []layer, cfg v1.Config, arch string) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: archive.Epoch}
	adds := make([]mutate.Addendum, 0, len(layers))
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{
			Layer:     l.layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: created, CreatedBy: l.createdBy},
		})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created, cf.Config = "linux", arch, created, cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return img, nil
}

// goBuild compiles pkg into a static linux/arch binary at out and returns it.
func goBuild(ctx context.Context, pkg, out, arch string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s (run from inside the repository): %w\n%s", pkg, err, strings.TrimSpace(string(msg)))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	return b, nil
}
