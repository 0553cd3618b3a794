package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/tugboat-sh/tugboat/images/archive"
)

func testImages(t *testing.T, refs ...string) []archive.Image {
	t.Helper()
	var imgs []archive.Image
	for _, ref := range refs {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, archive.Image{Tag: tag, Image: img})
	}
	return imgs
}

// serve runs Serve on a fresh 127.0.0.1 listener until the test ends and
// returns the listener's address.
func serve(t *testing.T, imgs []archive.Image) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var mu sync.Mutex
	go func() {
		done <- Serve(ctx, lis, imgs, func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			t.Logf(format, args...)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return lis.Addr().String()
}

func pull(t *testing.T, ref string) (v1.Image, error) {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return remote.Image(tag, remote.WithContext(ctx))
}

func TestServePullsBack(t *testing.T) {
	imgs := testImages(t, archive.Pause, archive.Sise, archive.Shell, "tugboat.local/sise:0.6.0", "tugboat.local/team/tool:v1")
	addr := serve(t, imgs)
	for _, img := range imgs {
		ref := fmt.Sprintf("%s/%s:%s", addr, img.Tag.RepositoryStr(), img.Tag.TagStr())
		t.Run(ref, func(t *testing.T) {
			got, err := pull(t, ref)
			if err != nil {
				t.Fatalf("pull %s: %v", ref, err)
			}
			want, _ := img.Image.Digest()
			if d, _ := got.Digest(); d != want {
				t.Errorf("digest = %s, want %s", d, want)
			}
			if err := validate.Image(got); err != nil {
				t.Errorf("pulled image does not validate: %v", err)
			}
		})
	}
}

func TestServeAsContainerdMirror(t *testing.T) {
	imgs := testImages(t, archive.Pause)
	addr := serve(t, imgs)
	want, _ := imgs[0].Image.Digest()
	// containerd asks a mirror for the manifest by tag, naming the upstream
	// host in the ns parameter.
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			req, err := http.NewRequest(method, "http://"+addr+"/v2/pause/manifests/latest?ns=tugboat.local", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Docker-Content-Digest"); got != want.String() {
				t.Errorf("Docker-Content-Digest = %q, want %q", got, want)
			}
		})
	}
}

func TestServeMissing(t *testing.T) {
	addr := serve(t, testImages(t, archive.Pause))
	tests := []struct {
		ref  string
		code transport.ErrorCode
	}{
		{addr + "/pause:nothere", transport.ManifestUnknownErrorCode},
		{addr + "/nothere:latest", transport.NameUnknownErrorCode},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := pull(t, tt.ref)
			var terr *transport.Error
			if !errors.As(err, &terr) {
				t.Fatalf("pull %s: error %v, want a registry error", tt.ref, err)
			}
			if terr.StatusCode != http.StatusNotFound {
				t.Errorf("status = %d, want 404", terr.StatusCode)
			}
			if len(terr.Errors) == 0 || terr.Errors[0].Code != tt.code {
				t.Errorf("errors = %v, want %s", terr.Errors, tt.code)
			}
		})
	}
}

func TestServeStops(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lis, testImages(t, archive.Pause), nil) }()
	if _, err := pull(t, addr+"/pause:latest"); err != nil {
		t.Fatalf("pull before stop: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("listener still accepts after Serve returned")
	}
}

func TestServeRejectsDuplicates(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), lis, testImages(t, archive.Pause, archive.Pause), nil)
	if err == nil || !strings.Contains(err.Error(), "two images") {
		t.Errorf("Serve = %v, want a duplicate name error", err)
	}
}
