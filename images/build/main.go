// Command build builds the project's images (pause, sise and shell) as OCI
// image archives without Docker:
//
//	go run ./images/build -out bin/images
//
// It compiles the Go programs under images/ statically for linux, stacks
// them with go-containerregistry into images with fixed times (the same
// sources give the same digests), and writes one archive per image (see
// package archive), ready for `ctr -n k8s.io images import` or the kubelet's
// loopback registry.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/tugboat-sh/tugboat/images/archive"
)

func main() {
	out := flag.String("out", "bin/images", "directory to write the image archives into")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox binary of the shell image (Debian's busybox-static)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *out, options{busybox: *busybox, arch: runtime.GOARCH}, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n", err)
		os.Exit(1)
	}
}

// run builds every image into out and prints one line per archive.
func run(ctx context.Context, out string, opts options, log io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	tmp, err := os.MkdirTemp("", "tugboat-build-")
	if err != nil {
		return fmt.Errorf("temp directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	imgs, err := buildAll(ctx, opts, tmp)
	if err != nil {
		return err
	}
	for _, b := range imgs {
		path := filepath.Join(out, archive.FileName(b.tag))
		if err := archive.Write(path, b.tag, b.img); err != nil {
			return err
		}
		d, err := b.img.Digest()
		if err != nil {
			return fmt.Errorf("digest of %s: %w", b.tag, err)
		}
		fmt.Fprintf(log, "%s\t%s\t%s\n", path, b.tag, d)
	}
	return nil
}
