package registry

import (
	"context"
	"errors"
	"slices"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Finalizers the garbage collector acts on.
const (
	FinalizerOrphan     = "orphan"
	FinalizerForeground = "foregroundDeletion"
)

// Delete removes an object. Objects with finalizers, or a grace period (pods
// on a node), are only marked with a deletionTimestamp; they go when the last
// finalizer is removed or the node agent confirms with a zero grace period.
// It returns the object as it was deleted or marked.
func (r *Resource) Delete(ctx context.Context, opts *metav1.DeleteOptions) (proto.Message, error) {
	ns, err := r.namespaceOf(opts.GetNamespace())
	if err != nil {
		return nil, err
	}
	name := opts.GetName()
	if name == "" {
		return nil, apierr.BadRequest("resource name may not be empty")
	}
	if p := opts.GetPropagationPolicy(); p != "" && p != "Orphan" && p != "Background" && p != "Foreground" {
		return nil, apierr.BadRequest("propagationPolicy %q is not one of Orphan, Background, Foreground", p)
	}
	if g := opts.GracePeriodSeconds; g != nil && *g < 0 {
		return nil, apierr.BadRequest("gracePeriodSeconds must not be negative")
	}
	for {
		cur, rev, err := r.get(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		meta := objectMeta(cur)
		if p := opts.GetPreconditions(); p != nil {
			if p.Uid != nil && *p.Uid != meta.Uid {
				return nil, apierr.Conflict(r.Kind.Resource, name, "Precondition failed: UID in precondition: "+*p.Uid+", UID in object meta: "+meta.Uid)
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != meta.ResourceVersion {
				return nil, apierr.Conflict(r.Kind.Resource, name, "Precondition failed: ResourceVersion in precondition: "+*p.ResourceVersion+", ResourceVersion in object meta: "+meta.ResourceVersion)
			}
		}
		if r.hooks.validateDelete != nil {
			if err := r.hooks.validateDelete(cur); err != nil {
				return nil, err
			}
		}
		next := proto.Clone(cur)
		if !r.markForDeletion(next, opts) {
			if _, err := r.reg.store.Delete(ctx, r.Kind.Resource, r.key(ns, name), rev); err != nil {
				if errors.Is(err, storage.ErrConflict) {
					continue
				}
				return nil, r.storageError(err, name)
			}
			if r.alloc != nil {
				r.alloc.Release(ctx, cur)
			}
			return cur, nil
		}
		if proto.Equal(next, cur) {
			return cur, nil
		}
		data, err := r.encode(next)
		if err != nil {
			return nil, err
		}
		newRev, err := r.reg.store.Update(ctx, r.Kind.Resource, r.key(ns, name), rev, data)
		if errors.Is(err, storage.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, r.storageError(err, name)
		}
		return r.decode(data, newRev)
	}
}

// markForDeletion sets the deletion metadata on obj and says whether the
// object must stay (finalizers or a grace period); false means delete now.
func (r *Resource) markForDeletion(obj proto.Message, opts *metav1.DeleteOptions) bool {
	meta := objectMeta(obj)
	switch {
	case opts.GetPropagationPolicy() == "Orphan" || (opts.OrphanDependents != nil && *opts.OrphanDependents):
		addFinalizer(meta, FinalizerOrphan)
	case opts.GetPropagationPolicy() == "Foreground":
		addFinalizer(meta, FinalizerForeground)
	}
	var grace int32
	if r.hooks.gracePeriod != nil {
		grace = r.hooks.gracePeriod(obj, opts)
	}
	pending := len(meta.Finalizers) > 0 || (r.hooks.finalizing != nil && r.hooks.finalizing(obj))
	if grace == 0 && !pending {
		return false
	}
	if meta.DeletionGracePeriodSeconds == nil || grace < *meta.DeletionGracePeriodSeconds {
		meta.DeletionGracePeriodSeconds = proto.Int32(grace)
		meta.DeletionTimestamp = timestamppb.New(time.Now().Add(time.Duration(grace) * time.Second).Truncate(time.Second))
	}
	if r.hooks.prepareForDelete != nil {
		r.hooks.prepareForDelete(obj)
	}
	return true
}

func addFinalizer(meta *metav1.ObjectMeta, f string) {
	if !slices.Contains(meta.Finalizers, f) {
		meta.Finalizers = append(meta.Finalizers, f)
	}
}
