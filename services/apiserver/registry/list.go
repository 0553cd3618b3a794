package registry

import (
	"context"
	"strconv"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/fields"
	"github.com/tugboat-sh/tugboat/machinery/selector"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"google.golang.org/protobuf/proto"
	k8sfields "k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// List is one page of objects.
type List struct {
	Items []proto.Message
	Meta  *metav1.ListMeta
}

// matcher decides whether an object passes the label and field selectors.
type matcher struct {
	labels labels.Selector
	fields k8sfields.Selector
}

func (r *Resource) matcher(opts *metav1.ListOptions) (*matcher, error) {
	m := &matcher{}
	var err error
	if s := opts.GetLabelSelector(); s != "" {
		if m.labels, err = selector.Parse(s); err != nil {
			return nil, apierr.BadRequest("unable to parse requirement: %v", err)
		}
	}
	if s := opts.GetFieldSelector(); s != "" {
		if m.fields, err = fields.Parse(r.Kind.Resource, s); err != nil {
			return nil, apierr.BadRequest("%v", err)
		}
	}
	return m, nil
}

func (m *matcher) empty() bool { return m.labels == nil && m.fields == nil }

func (m *matcher) matches(obj proto.Message) bool {
	if m.labels != nil && !m.labels.Matches(labels.Set(readMeta(obj).GetLabels())) {
		return false
	}
	if m.fields != nil && !m.fields.Matches(fields.Of(obj)) {
		return false
	}
	return true
}

// List returns a consistent page of objects matching the selectors.
func (r *Resource) List(ctx context.Context, opts *metav1.ListOptions) (*List, error) {
	ns, err := r.namespaceOf(opts.GetNamespace())
	if err != nil {
		return nil, err
	}
	if opts.GetNamespace() == "" {
		ns = ""
	}
	m, err := r.matcher(opts)
	if err != nil {
		return nil, err
	}
	if opts.GetLimit() < 0 {
		return nil, apierr.BadRequest("limit must not be negative")
	}
	var rev int64
	if opts.GetResourceVersionMatch() == "Exact" {
		if rev, err = strconv.ParseInt(opts.GetResourceVersion(), 10, 64); err != nil || rev <= 0 {
			return nil, apierr.BadRequest("resourceVersion %q: an exact match needs a positive revision", opts.GetResourceVersion())
		}
	} else if v := opts.GetResourceVersion(); v != "" {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return nil, apierr.BadRequest("resourceVersion %q is not a revision", v)
		}
	}
	var items []proto.Message
	res, err := r.reg.store.List(ctx, r.Kind.Resource, r.prefix(ns), storage.ListOptions{
		Limit:    int64(opts.GetLimit()),
		Continue: opts.GetContinue(),
		Revision: rev,
		Filter: func(kv *storage.KV) (bool, error) {
			obj, err := r.decode(kv.Value, kv.ModRevision)
			if err != nil {
				return false, err
			}
			if !m.matches(obj) {
				return false, nil
			}
			items = append(items, obj)
			return true, nil
		},
	})
	if err != nil {
		if opts.GetContinue() != "" {
			if e := r.storageError(err, ""); e != err {
				if ae, ok := e.(*apierr.Error); ok && ae.Status.Reason == "Expired" {
					return nil, apierr.Gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
				}
				return nil, e
			}
		}
		return nil, r.storageError(err, "")
	}
	meta := &metav1.ListMeta{ResourceVersion: strconv.FormatInt(res.Revision, 10), Continue: res.Continue}
	if res.Continue != "" && m.empty() {
		meta.RemainingItemCount = proto.Int32(int32(res.Remaining))
	}
	return &List{Items: items, Meta: meta}, nil
}
