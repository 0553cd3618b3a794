// Package registry serves the project's images from an in-memory OCI
// registry (go-containerregistry's pkg/registry) on a loopback listener, so
// that containerd pulls them through its normal path: with a mirror
// tugboat.local -> http://127.0.0.1:PORT, tugboat.local/pause:latest is
// fetched from http://127.0.0.1:PORT/v2/pause/manifests/latest.
package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tugboat-sh/tugboat/images/archive"
)

// shutdownTimeout bounds how long Serve waits for requests in flight when
// its context ends.
const shutdownTimeout = 5 * time.Second

// Serve pushes imgs into a new in-memory registry, each under its repository
// and tag (tugboat.local/pause:latest as pause:latest), then serves the
// registry on lis until ctx ends, when it shuts the server down and returns
// nil. The images are in place before the first request is answered. logf
// (which may be nil) gets one line per image and one at shutdown; the
// registry's own per-request log is discarded.
func Serve(ctx context.Context, lis net.Listener, imgs []archive.Image, logf func(format string, args ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	h := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	if err := push(ctx, h, imgs, logf, lis.Addr()); err != nil {
		lis.Close()
		return err
	}

	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	select {
	case err := <-served:
		return fmt.Errorf("registry: serve on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("registry: shut down on %s: %w", lis.Addr(), err)
	}
	logf("registry: stopped on %s", lis.Addr())
	return nil
}

// push writes every image into the registry handler h in process, without
// the network.
func push(ctx context.Context, h http.Handler, imgs []archive.Image, logf func(string, ...any), addr net.Addr) error {
	seen := map[string]bool{}
	for _, img := range imgs {
		ref := img.Tag.RepositoryStr() + ":" + img.Tag.TagStr()
		if seen[ref] {
			return fmt.Errorf("registry: two images named %s", ref)
		}
		seen[ref] = true
		err := remote.Write(img.Tag, img.Image, remote.WithContext(ctx), remote.WithTransport(handlerTransport{h}))
		if err != nil {
			return fmt.Errorf("registry: push %s: %w", img.Tag, err)
		}
		d, err := img.Image.Digest()
		if err != nil {
			return fmt.Errorf("registry: digest of %s: %w", img.Tag, err)
		}
		logf("registry: serving %s at http://%s/v2/%s/manifests/%s (%s)", img.Tag, addr, img.Tag.RepositoryStr(), img.Tag.TagStr(), d)
	}
	return nil
}

// handlerTransport is an http.RoundTripper that answers from a handler in
// process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Give the handler what a server would: a body and a RequestURI.
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	w := &recorder{header: http.Header{}}
	t.h.ServeHTTP(w, in)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	size := int64(w.body.Len())
	if req.Method == http.MethodHead {
		size, _ = strconv.ParseInt(w.header.Get("Content-Length"), 10, 64)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: size,
		Request:       req,
	}, nil
}

// recorder is the http.ResponseWriter of handlerTransport.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
