package fakeruntime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// image is a pulled image. Its id and digest are derived from its name, so
// the same name always gets the same id.
type image struct {
	id      string   // "sha256:<64 hex>", what PullImage returns
	tags    []string // normalized "repo:tag"
	digests []string // "repo@sha256:<64 hex>"
	size    uint64
}

// imageStore holds the pulled images; Runtime.mu guards it.
type imageStore struct {
	byRef   map[string]*image   // every tag, digest and id of every image
	missing map[string]struct{} // normalized refs whose pull fails
	size    uint64              // sum of image sizes
	count   int
}

func newImageStore() imageStore {
	return imageStore{byRef: make(map[string]*image), missing: make(map[string]struct{})}
}

// imageRef is a parsed, normalized image reference.
type imageRef struct {
	domain, repo, tag, digest string // repo includes the domain
}

// String is the canonical form: repo@digest when there is a digest, else
// repo:tag.
func (r imageRef) String() string {
	if r.digest != "" {
		return r.repo + "@" + r.digest
	}
	return r.repo + ":" + r.tag
}

// parseRef normalizes a reference the way containerd does: "busybox" is
// "docker.io/library/busybox:latest".
func parseRef(s string) (imageRef, error) {
	if s == "" || strings.ContainsAny(s, " \t\n") {
		return imageRef{}, invalid("invalid image reference %q", s)
	}
	var r imageRef
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, r.digest = name[:i], name[i+1:]
		if !strings.Contains(r.digest, ":") {
			return imageRef{}, invalid("invalid image reference %q: bad digest", s)
		}
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, r.tag = name[:i], name[i+1:]
	}
	if r.tag == "" && r.digest == "" {
		r.tag = "latest"
	}
	first, rest, hasSlash := strings.Cut(name, "/")
	switch {
	case !hasSlash:
		r.domain, rest = "docker.io", "library/"+name
	case strings.ContainsAny(first, ".:") || first == "localhost":
		r.domain = first
	default:
		r.domain, rest = "docker.io", name
	}
	if rest == "" || strings.HasSuffix(rest, "/") || rest != strings.ToLower(rest) {
		return imageRef{}, invalid("invalid image reference %q: repository name must be lowercase and not empty", s)
	}
	r.repo = r.domain + "/" + rest
	return r, nil
}

// isImageID reports whether s is an image id ("sha256:" and 64 hex digits).
func isImageID(s string) bool {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

func digestOf(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + ":" + name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// lookup finds an image by id, tag or digest reference.
func (s *imageStore) lookup(ref string) (*image, error) {
	if isImageID(ref) {
		return s.byRef[ref], nil
	}
	r, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	return s.byRef[r.String()], nil
}

// add stores the image named by r unless it is there already.
func (s *imageStore) add(r imageRef) *image {
	key := r.String()
	if img := s.byRef[key]; img != nil {
		return img
	}
	img := &image{id: digestOf("config", key)}
	if r.digest != "" {
		img.digests = []string{key}
	} else {
		img.tags = []string{key}
		img.digests = []string{r.repo + "@" + digestOf("manifest", key)}
	}
	img.size = 1<<20 + uint64(img.id[7])<<12 // 1 MiB and a little, stable per name
	for _, k := range img.keys() {
		s.byRef[k] = img
	}
	s.size += img.size
	s.count++
	return img
}

func (s *imageStore) remove(img *image) {
	for _, k := range img.keys() {
		delete(s.byRef, k)
	}
	s.size -= img.size
	s.count--
}

func (img *image) keys() []string {
	return append(append([]string{img.id}, img.tags...), img.digests...)
}

// ref is what a container status reports as imageRef: the repo digest.
func (img *image) ref() string {
	if len(img.digests) > 0 {
		return img.digests[0]
	}
	return img.id
}

func (img *image) proto() *runtimeapi.Image {
	return &runtimeapi.Image{
		Id:          img.id,
		RepoTags:    slices.Clone(img.tags),
		RepoDigests: slices.Clone(img.digests),
		Size:        img.size,
		Spec:        &runtimeapi.ImageSpec{Image: img.id},
	}
}

// AddImage makes an image present, as if imported, whatever its registry,
// and forgets an earlier SetImageMissing for it. It returns the image id.
func (r *Runtime) AddImage(ref string) (string, error) {
	p, err := parseRef(ref)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.images.missing, p.String())
	return r.images.add(p).id, nil
}

// SetImageMissing makes PullImage of ref fail with NotFound (the kubelet
// reports ErrImagePull) and removes the image if it is present.
func (r *Runtime) SetImageMissing(ref string) {
	key := ref
	if p, err := parseRef(ref); err == nil {
		key = p.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images.missing[key] = struct{}{}
	if img := r.images.byRef[key]; img != nil {
		r.images.remove(img)
	}
}

// ClearImageMissing undoes SetImageMissing: ref can be pulled again if its
// registry is known.
func (r *Runtime) ClearImageMissing(ref string) {
	key := ref
	if p, err := parseRef(ref); err == nil {
		key = p.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.images.missing, key)
}

// PullImage stores the image if its registry is one of Config.Registries and
// it was not made missing; it returns the image id.
func (r *Runtime) PullImage(_ context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if isImageID(ref) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if img := r.images.byRef[ref]; img != nil {
			r.counters.ImagesPulled++
			return &runtimeapi.PullImageResponse{ImageRef: img.id}, nil
		}
		r.counters.ImagePullFailures++
		return nil, notFound("image", ref)
	}
	p, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	key := p.String()
	r.mu.Lock()
	defer r.unlock()
	if _, missing := r.images.missing[key]; missing {
		r.counters.ImagePullFailures++
		return nil, status.Errorf(codes.NotFound, "failed to pull image %q: %s not found in registry %s", ref, key, p.domain)
	}
	img := r.images.byRef[key]
	if img == nil {
		if !slices.Contains(r.cfg.Registries, p.domain) {
			r.counters.ImagePullFailures++
			return nil, status.Errorf(codes.NotFound, "failed to pull image %q: registry %s is unknown to the fake runtime (known: %s)",
				ref, p.domain, strings.Join(r.cfg.Registries, ", "))
		}
		img = r.images.add(p)
	}
	r.counters.ImagesPulled++
	r.record(Event{Type: ImagePulled, ID: img.id, Image: key})
	return &runtimeapi.PullImageResponse{ImageRef: img.id}, nil
}

// ImageStatus returns the image, or a nil Image when it is not present.
func (r *Runtime) ImageStatus(_ context.Context, req *runtimeapi.ImageStatusRequest) (*runtimeapi.ImageStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	img, err := r.images.lookup(req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	if img == nil {
		return &runtimeapi.ImageStatusResponse{}, nil
	}
	return &runtimeapi.ImageStatusResponse{Image: img.proto()}, nil
}

// ListImages lists the present images, or only the one the filter names.
func (r *Runtime) ListImages(_ context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	imgs, err := r.listImages(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListImagesResponse{Images: imgs}, nil
}

// StreamImages is ListImages in chunks.
func (r *Runtime) StreamImages(req *runtimeapi.StreamImagesRequest, stream grpc.ServerStreamingServer[runtimeapi.StreamImagesResponse]) error {
	imgs, err := r.listImages(req.GetFilter())
	if err != nil {
		return err
	}
	return sendChunks(imgs, streamChunk, func(c []*runtimeapi.Image) error {
		return stream.Send(&runtimeapi.StreamImagesResponse{Images: c})
	})
}

func (r *Runtime) listImages(f *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ref := f.GetImage().GetImage(); ref != "" {
		img, err := r.images.lookup(ref)
		if err != nil || img == nil {
			return nil, err
		}
		return []*runtimeapi.Image{img.proto()}, nil
	}
	seen := make(map[*image]struct{}, r.images.count)
	out := make([]*runtimeapi.Image, 0, r.images.count)
	for _, img := range r.images.byRef {
		if _, dup := seen[img]; !dup {
			seen[img] = struct{}{}
			out = append(out, img.proto())
		}
	}
	slices.SortFunc(out, func(a, b *runtimeapi.Image) int { return strings.Compare(a.Id, b.Id) })
	return out, nil
}

// RemoveImage removes the image with all its tags; removing an absent image
// is not an error.
func (r *Runtime) RemoveImage(_ context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	r.mu.Lock()
	defer r.unlock()
	img, err := r.images.lookup(req.GetImage().GetImage())
	if err != nil {
		return nil, err
	}
	if img != nil {
		r.images.remove(img)
		r.counters.ImagesRemoved++
		r.record(Event{Type: ImageRemoved, ID: img.id, Image: req.GetImage().GetImage()})
	}
	return &runtimeapi.RemoveImageResponse{}, nil
}

// imageFsMountpoint is what ImageFsInfo reports, containerd's default.
const imageFsMountpoint = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs"

// ImageFsInfo reports the images' total size as the used bytes of the image
// filesystem.
func (r *Runtime) ImageFsInfo(context.Context, *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	r.mu.Lock()
	used, count := r.images.size, r.images.count
	r.mu.Unlock()
	return &runtimeapi.ImageFsInfoResponse{ImageFilesystems: []*runtimeapi.FilesystemUsage{{
		Timestamp:  nowNano(),
		FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: imageFsMountpoint},
		UsedBytes:  &runtimeapi.UInt64Value{Value: used},
		InodesUsed: &runtimeapi.UInt64Value{Value: uint64(count) * 100},
	}}}, nil
}
