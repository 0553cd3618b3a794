package registry

import (
	"context"
	"errors"
	"strconv"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"google.golang.org/protobuf/proto"
)

// Watch event types, as Kubernetes names them.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
)

// Watch sends the changes to matching objects after opts.resourceVersion.
// An empty or "0" resourceVersion first sends every current object as ADDED.
// started, when not nil, is called once the request has been accepted and
// the watch is running, before any change is sent: the gRPC layer sends its
// response headers then, so that a client learns an idle watch is
// established. It returns when ctx ends, the timeout passes or send fails; a
// compacted resourceVersion is a Gone error.
func (r *Resource) Watch(ctx context.Context, opts *metav1.ListOptions, send func(eventType string, obj proto.Message) error, started func() error) error {
	ns := ""
	if r.Kind.Namespaced {
		ns = opts.GetNamespace()
	}
	m, err := r.matcher(opts)
	if err != nil {
		return err
	}
	if t := opts.GetTimeoutSeconds(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(t)*time.Second)
		defer cancel()
	}
	var start int64
	switch rv := opts.GetResourceVersion(); rv {
	case "", "0":
		list, err := r.List(ctx, &metav1.ListOptions{Namespace: ns, LabelSelector: opts.GetLabelSelector(), FieldSelector: opts.GetFieldSelector()})
		if err != nil {
			return err
		}
		// The headers go out now: the first ADDED event would send them,
		// and the watch below must not send them again.
		if started != nil {
			if err := started(); err != nil {
				return err
			}
			started = nil
		}
		for _, obj := range list.Items {
			if err := send(Added, obj); err != nil {
				return err
			}
		}
		start, _ = strconv.ParseInt(list.Meta.ResourceVersion, 10, 64)
	default:
		if start, err = strconv.ParseInt(rv, 10, 64); err != nil || start < 0 {
			return apierr.BadRequest("resourceVersion %q is not a revision", rv)
		}
	}
	r.reg.metrics.watches.WithLabelValues(r.Kind.Resource).Inc()
	defer r.reg.metrics.watches.WithLabelValues(r.Kind.Resource).Dec()
	served, err := r.watchCached(ctx, start, ns, m, opts.GetAllowWatchBookmarks(), send, started)
	if !served {
		err = r.watchEtcd(ctx, start, ns, m, opts.GetAllowWatchBookmarks(), send, started)
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	return nil
}

// watchEtcd serves a watch from its own etcd watch: for revisions older than
// the watch cache holds.
func (r *Resource) watchEtcd(ctx context.Context, start int64, ns string, m *matcher, bookmarks bool,
	send func(string, proto.Message) error, started func() error) error {
	wopts := storage.WatchOptions{}
	if bookmarks {
		wopts.ProgressInterval = r.reg.opts.BookmarkInterval
	}
	events, werr := r.reg.store.Watch(ctx, r.prefix(ns), start, wopts)
	if started != nil {
		if err := started(); err != nil {
			return err
		}
	}
	for ev := range events {
		typ, obj, err := r.convert(ev, m)
		if err != nil {
			return err
		}
		if obj == nil {
			continue
		}
		if err := send(typ, obj); err != nil {
			return err
		}
	}
	if err := werr(); err != nil {
		if errors.Is(err, storage.ErrCompacted) {
			return r.gone(start, err)
		}
		return err
	}
	return nil
}

func (r *Resource) gone(start int64, err error) error {
	return apierr.Gone("too old resource version: %d (%v)", start, err)
}

// bookmark is the object of a BOOKMARK event at rev.
func (r *Resource) bookmark(rev int64) proto.Message {
	obj := r.Kind.New()
	objectMeta(obj).ResourceVersion = strconv.FormatInt(rev, 10)
	setTypeMeta(obj, r.Kind.APIVersion(), r.Kind.Kind)
	return obj
}

// convert turns a storage event into an API event for this watcher, or nil
// when the watcher does not see it. Objects entering or leaving the
// selection become ADDED or DELETED.
func (r *Resource) convert(ev storage.Event, m *matcher) (string, proto.Message, error) {
	if ev.Type == storage.Progress {
		return Bookmark, r.bookmark(ev.Revision), nil
	}
	var cur, prev proto.Message
	var err error
	if ev.Type == storage.Put {
		if cur, err = r.decode(ev.Value, ev.Revision); err != nil {
			return "", nil, err
		}
	}
	if ev.Prev != nil {
		if prev, err = r.decode(ev.Prev, ev.Revision); err != nil {
			return "", nil, err
		}
	}
	typ, obj := classify(ev.Type, cur, prev, m, "")
	return typ, obj, nil
}

// classify names the event a watcher of namespace ns (empty: all) with
// selectors m sees, or returns nil when it sees none. Objects entering or
// leaving the selection become ADDED or DELETED.
func classify(t storage.EventType, cur, prev proto.Message, m *matcher, ns string) (string, proto.Message) {
	in := func(obj proto.Message) bool {
		return obj != nil && (ns == "" || readMeta(obj).GetNamespace() == ns) && m.matches(obj)
	}
	curIn, prevIn := in(cur), in(prev)
	switch {
	case t == storage.Deleted && prevIn:
		return Deleted, prev
	case curIn && prevIn:
		return Modified, cur
	case curIn:
		return Added, cur
	case prevIn:
		// As Kubernetes does: the object as it last matched, at the
		// event's resourceVersion (prev is decoded at it).
		return Deleted, prev
	}
	return "", nil
}
