package informer

import (
	"context"
	"errors"
	"fmt"
	"io"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errGone means the watch's resourceVersion is compacted: relist.
var errGone = errors.New("informer: resource version expired")

// reflect lists, then watches and re-watches, until ctx ends. A watch that
// ends is resumed from the last seen resourceVersion; an expired one
// (OutOfRange, Kubernetes' 410 Gone) leads to a relist.
func (i *Informer[T]) reflect(ctx context.Context) {
	bo := newBackoff(i.opts.Backoff)
	relist := true
	for ctx.Err() == nil {
		if relist {
			if err := i.relist(ctx); err != nil {
				if ctx.Err() == nil {
					i.log.Warn("informer list failed", zap.Error(err))
					bo.wait(ctx)
				}
				continue
			}
			relist = false
			bo.reset()
		}
		n, err := i.watchOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errGone):
			i.log.Info("informer watch expired, relisting", zap.String("resourceVersion", i.cache.resourceVersion()))
			relist = true
		case err != nil:
			i.log.Warn("informer watch failed", zap.String("resourceVersion", i.cache.resourceVersion()), zap.Error(err))
			bo.wait(ctx)
		case n == 0:
			// A stream that ends without events is paced like an error so
			// that a server closing at once cannot spin the loop.
			bo.wait(ctx)
		default:
			bo.reset()
		}
	}
}

// relist reads every page and replaces the cache with the result.
func (i *Informer[T]) relist(ctx context.Context) error {
	opts := &metav1.ListOptions{
		Namespace:     i.opts.Namespace,
		LabelSelector: i.opts.LabelSelector,
		FieldSelector: i.opts.FieldSelector,
		Limit:         i.opts.PageSize,
	}
	var all []T
	rv := ""
	for {
		items, meta, err := i.list(ctx, opts)
		if err != nil {
			if status.Code(err) == codes.OutOfRange && opts.Continue != "" {
				// The continue token expired between pages: read it whole.
				opts.Continue, opts.Limit, all, rv = "", 0, nil, ""
				continue
			}
			return err
		}
		all = append(all, items...)
		if rv == "" {
			rv = meta.GetResourceVersion()
		}
		if meta.GetContinue() == "" {
			break
		}
		opts.Continue = meta.GetContinue()
	}
	if rv == "" {
		return fmt.Errorf("informer: list returned no resourceVersion")
	}
	i.cache.replace(all, rv, i.notes)
	return nil
}

// watchOnce watches from the cache's resourceVersion until the stream ends
// and returns the number of events applied.
func (i *Informer[T]) watchOnce(ctx context.Context) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next, err := i.watch(ctx, &metav1.ListOptions{
		Namespace:           i.opts.Namespace,
		LabelSelector:       i.opts.LabelSelector,
		FieldSelector:       i.opts.FieldSelector,
		ResourceVersion:     i.cache.resourceVersion(),
		AllowWatchBookmarks: true,
	})
	if err != nil {
		return 0, gone(err)
	}
	n := 0
	for {
		typ, obj, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, gone(err)
		}
		if typ == "ERROR" {
			return n, errGone
		}
		if obj.GetMetadata() == nil {
			i.log.Warn("informer event without metadata", zap.String("type", typ))
			continue
		}
		if !i.cache.apply(typ, obj, i.notes) {
			i.log.Warn("informer event of unknown type", zap.String("type", typ))
			continue
		}
		n++
	}
}

func gone(err error) error {
	if status.Code(err) == codes.OutOfRange {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	return err
}
