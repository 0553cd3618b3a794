package fakeruntime

import (
	"testing"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "busybox", want: "docker.io/library/busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36"},
		{in: "user/app", want: "docker.io/user/app:latest"},
		{in: "tugboat.local/pause:3.10", want: "tugboat.local/pause:3.10"},
		{in: "tugboat.local/team/app", want: "tugboat.local/team/app:latest"},
		{in: "localhost:5000/app:v2", want: "localhost:5000/app:v2"},
		{in: "localhost/app", want: "localhost/app:latest"},
		{in: "tugboat.local/app@sha256:abc", want: "tugboat.local/app@sha256:abc"},
		{in: "tugboat.local/app:v1@sha256:abc", want: "tugboat.local/app@sha256:abc"},
		{in: "", wantErr: true},
		{in: "Upper/Case", wantErr: true},
		{in: "tugboat.local/", wantErr: true},
		{in: "app@nodigest", wantErr: true},
		{in: "has space", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseRef(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRef(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Fatalf("parseRef(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestImages(t *testing.T) {
	e := start(t, Config{Images: []string{"tugboat.local/pause:3.10"}})
	imageStatus := func(ref string) *runtimeapi.Image {
		t.Helper()
		resp, err := e.is.ImageStatus(e.ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
		if err != nil {
			t.Fatalf("ImageStatus(%s): %v", ref, err)
		}
		return resp.Image
	}
	if imageStatus("tugboat.local/pause:3.10") == nil {
		t.Fatal("preloaded pause image is not present")
	}
	if imageStatus("tugboat.local/app:v1") != nil {
		t.Fatal("image present before it was pulled")
	}
	id := e.pull(t, "tugboat.local/app:v1")
	if !isImageID(id) {
		t.Fatalf("PullImage returned %q, want an image id", id)
	}
	if again := e.pull(t, "tugboat.local/app:v1"); again != id {
		t.Fatalf("second pull gave id %s, want %s", again, id)
	}
	img := imageStatus("tugboat.local/app:v1")
	if img == nil || img.Id != id || len(img.RepoTags) != 1 || img.RepoTags[0] != "tugboat.local/app:v1" ||
		len(img.RepoDigests) != 1 || img.Size == 0 {
		t.Fatalf("image = %v", img)
	}
	for _, ref := range []string{id, img.RepoDigests[0]} {
		if got := imageStatus(ref); got == nil || got.Id != id {
			t.Fatalf("ImageStatus(%s) = %v, want image %s", ref, got, id)
		}
	}

	_, err := e.is.PullImage(e.ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "busybox"}})
	wantCode(t, err, codes.NotFound, `"busybox"`, "docker.io")
	if _, err := e.rt.AddImage("busybox"); err != nil {
		t.Fatal(err)
	}
	if got := imageStatus("docker.io/library/busybox:latest"); got == nil {
		t.Fatal("added busybox not found by its full name")
	}

	list, err := e.is.ListImages(e.ctx, &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.Images) != 3 {
		t.Fatalf("ListImages = %d images, %v; want 3", len(list.Images), err)
	}
	list, err = e.is.ListImages(e.ctx, &runtimeapi.ListImagesRequest{Filter: &runtimeapi.ImageFilter{Image: &runtimeapi.ImageSpec{Image: "tugboat.local/app:v1"}}})
	if err != nil || len(list.Images) != 1 || list.Images[0].Id != id {
		t.Fatalf("filtered ListImages = %v, %v", list, err)
	}

	fsUsed := func() uint64 {
		fs, err := e.is.ImageFsInfo(e.ctx, &runtimeapi.ImageFsInfoRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return fs.ImageFilesystems[0].UsedBytes.Value
	}
	before := fsUsed()
	for range 2 { // removing an absent image is fine
		if _, err := e.is.RemoveImage(e.ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: id}}); err != nil {
			t.Fatalf("RemoveImage: %v", err)
		}
	}
	if imageStatus("tugboat.local/app:v1") != nil || imageStatus(img.RepoDigests[0]) != nil {
		t.Fatal("image still present after RemoveImage")
	}
	if after := fsUsed(); after != before-img.Size {
		t.Fatalf("image fs used %d after removal, want %d", after, before-img.Size)
	}
	c := e.rt.Counters()
	if c.ImagesPulled != 2 || c.ImagePullFailures != 1 || c.ImagesRemoved != 1 || c.Images != 2 {
		t.Fatalf("counters = %+v", c)
	}
}

func TestImageMissing(t *testing.T) {
	e := start(t, Config{})
	e.pull(t, "tugboat.local/gone:v1")
	e.rt.SetImageMissing("tugboat.local/gone:v1")
	resp, err := e.is.ImageStatus(e.ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "tugboat.local/gone:v1"}})
	if err != nil || resp.Image != nil {
		t.Fatalf("ImageStatus of a missing image = %v, %v; want absent", resp, err)
	}
	_, err = e.is.PullImage(e.ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: "tugboat.local/gone:v1"}})
	wantCode(t, err, codes.NotFound, `"tugboat.local/gone:v1"`, "not found")
	e.rt.ClearImageMissing("tugboat.local/gone:v1")
	e.pull(t, "tugboat.local/gone:v1")
}
