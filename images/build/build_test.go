package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/tugboat-sh/tugboat/images/archive"
	"github.com/tugboat-sh/tugboat/images/registry"
)

func testOptions() options { return options{busybox: "/bin/busybox", arch: runtime.GOARCH} }

// buildInto runs the build into a new temporary directory.
func buildInto(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var log bytes.Buffer
	if err := run(ctx, dir, testOptions(), &log); err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Logf("built:\n%s", log.String())
	return dir
}

// entry is a file of an image's flattened filesystem.
type entry struct {
	typ  byte
	mode int64
	link string
	size int64
	data []byte // contents of small files
}

func flatten(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	fs := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fs
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{typ: hdr.Typeflag, mode: hdr.Mode, link: hdr.Linkname, size: hdr.Size}
		if hdr.Size < 4096 {
			e.data, _ = io.ReadAll(tr)
		}
		fs["/"+strings.TrimSuffix(hdr.Name, "/")] = e
	}
}

func TestBuild(t *testing.T) {
	first, second := buildInto(t), buildInto(t)

	imgs, err := archive.LoadDir(first)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]v1.Image{}
	for _, img := range imgs {
		names = append(names, img.Tag.Name())
		byName[img.Tag.Name()] = img.Image
	}
	if want := archive.Names(); !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("built %v, want %v", names, want)
	}

	t.Run("reproducible", func(t *testing.T) {
		for _, img := range imgs {
			file := filepath.Base(img.Path)
			a, _ := os.ReadFile(img.Path)
			b, err := os.ReadFile(filepath.Join(second, file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs between two builds", file)
			}
			_, again, err := archive.Load(filepath.Join(second, file))
			if err != nil {
				t.Fatal(err)
			}
			d1, _ := img.Image.Digest()
			d2, _ := again.Digest()
			if d1 != d2 {
				t.Errorf("%s: digest %s then %s", img.Tag, d1, d2)
			}
		}
	})

	const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	tests := []struct {
		ref        string
		entrypoint []string
		cmd        []string
		env        []string
		ports      []string
		files      []string // regular files
		links      map[string]string
	}{
		{ref: archive.Pause, entrypoint: []string{"/pause"}, env: []string{pathEnv}, files: []string{"/pause"}},
		{
			ref: archive.Sise, entrypoint: []string{"/sise"}, env: []string{pathEnv, "SIMPLE_SERVICE_VERSION=0.5.0"},
			ports: []string{"9876/tcp"}, files: []string{"/sise", "/bin/busybox", "/bin/printenv"},
			links: map[string]string{"/bin/sh": "busybox"},
		},
		{
			ref: archive.Shell, cmd: []string{"sh"}, env: []string{pathEnv},
			files: []string{"/bin/busybox", "/bin/printenv", "/bin/bash", "/bin/curl", "/bin/hog", "/etc/passwd", "/etc/group"},
			links: map[string]string{
				"/bin/sh": "busybox", "/bin/wget": "busybox", "/bin/sleep": "busybox", "/bin/mount": "busybox",
				"/bin/cat": "busybox", "/bin/ls": "busybox", "/bin/echo": "busybox", "/bin/nc": "busybox",
				"/usr/bin/env": "/bin/env",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img := byName[tt.ref]
			if img == nil {
				t.Fatalf("%s not built", tt.ref)
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("image does not validate: %v", err)
			}
			if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
				t.Errorf("manifest media type = %s, want OCI", mt)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range m.Layers {
				if l.MediaType != types.OCILayer {
					t.Errorf("layer media type = %s, want %s", l.MediaType, types.OCILayer)
				}
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
				t.Errorf("platform = %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
			}
			if !cf.Created.Time.Equal(time.Unix(0, 0)) {
				t.Errorf("created = %v, want the epoch", cf.Created)
			}
			c := cf.Config
			if !slices.Equal(c.Entrypoint, tt.entrypoint) || !slices.Equal(c.Cmd, tt.cmd) || !slices.Equal(c.Env, tt.env) {
				t.Errorf("entrypoint %q cmd %q env %q, want %q %q %q", c.Entrypoint, c.Cmd, c.Env, tt.entrypoint, tt.cmd, tt.env)
			}
			var ports []string
			for p := range c.ExposedPorts {
				ports = append(ports, p)
			}
			if !slices.Equal(ports, tt.ports) {
				t.Errorf("exposed ports = %v, want %v", ports, tt.ports)
			}

			fs := flatten(t, img)
			for _, f := range tt.files {
				if e, ok := fs[f]; !ok || e.typ != tar.TypeReg {
					t.Errorf("%s: not a regular file in the image", f)
				}
			}
			for l, target := range tt.links {
				if e := fs[l]; e.typ != tar.TypeSymlink || e.link != target {
					t.Errorf("%s: %+v, want a link to %s", l, e, target)
				}
			}
			for _, bin := range []string{"/pause", "/sise", "/bin/busybox", "/bin/hog"} {
				if e, ok := fs[bin]; ok && e.mode&0o111 == 0 {
					t.Errorf("%s is not executable (mode %o)", bin, e.mode)
				}
			}
			if tt.ref == archive.Shell {
				if e := fs["/tmp"]; e.typ != tar.TypeDir || e.mode != 0o1777 {
					t.Errorf("/tmp: type %c mode %o, want a 1777 directory", e.typ, e.mode)
				}
				if e := fs["/root"]; e.typ != tar.TypeDir {
					t.Error("/root: not a directory")
				}
				for _, user := range []string{"root:x:0:0:", "nobody:x:65534:65534:"} {
					if !bytes.Contains(fs["/etc/passwd"].data, []byte(user)) {
						t.Errorf("/etc/passwd lacks %s", user)
					}
				}
			}
		})
	}

	t.Run("served", func(t *testing.T) { testServed(t, imgs) })
}

// testServed serves the built images from the loopback registry and pulls
// each back as containerd would through its mirror.
func testServed(t *testing.T, imgs []archive.Image) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- registry.Serve(ctx, lis, imgs, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	for _, img := range imgs {
		ref, err := name.NewTag(lis.Addr().String()+"/"+img.Tag.RepositoryStr()+":"+img.Tag.TagStr(), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Minute)
		got, err := remote.Image(ref, remote.WithContext(pctx))
		if err != nil {
			pcancel()
			t.Fatalf("pull %s: %v", ref, err)
		}
		want, _ := img.Image.Digest()
		if d, _ := got.Digest(); d != want {
			t.Errorf("%s: pulled digest %s, want %s", ref, d, want)
		}
		if err := validate.Image(got); err != nil {
			t.Errorf("%s: pulled image does not validate: %v", ref, err)
		}
		pcancel()
	}
}
