package registry

import (
	"context"
	"errors"
	"strconv"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"github.com/tugboat-sh/tugboat/machinery/defaults"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"google.golang.org/protobuf/proto"
)

// Update replaces an object's spec and metadata; its status is kept. A
// non-empty resourceVersion makes it compare-and-swap (stale: Conflict).
func (r *Resource) Update(ctx context.Context, obj proto.Message) (proto.Message, error) {
	if err := r.checkType(obj); err != nil {
		return nil, err
	}
	meta := objectMeta(obj)
	ns, err := r.namespaceOf(meta.Namespace)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, ns, meta.Name, meta.ResourceVersion, func(cur proto.Message) (proto.Message, error) {
		next := proto.Clone(obj)
		if hasField(next, "status") {
			copyPart(next, cur, "status")
		}
		keepServerMeta(objectMeta(next), objectMeta(cur))
		defaults.Apply(next)
		if r.hooks.prepareForUpdate != nil {
			r.hooks.prepareForUpdate(next, cur)
		}
		if r.admit != nil {
			if err := r.admit(ctx, cur, next); err != nil {
				return nil, err
			}
		}
		if hasField(next, "spec") && !proto.Equal(part(next, "spec"), part(cur, "spec")) {
			objectMeta(next).Generation = objectMeta(cur).Generation + 1
		}
		if errs := validation.ValidateUpdate(next, cur); len(errs) > 0 {
			return nil, apierr.Invalid(r.Kind.Kind, objectMeta(next).Name, errs)
		}
		return next, nil
	})
}

// UpdateStatus replaces an object's status; everything else is kept.
func (r *Resource) UpdateStatus(ctx context.Context, obj proto.Message) (proto.Message, error) {
	if !r.Kind.HasStatus {
		return nil, apierr.MethodNotSupported(r.Kind.Resource, "updateStatus")
	}
	if err := r.checkType(obj); err != nil {
		return nil, err
	}
	meta := objectMeta(obj)
	ns, err := r.namespaceOf(meta.Namespace)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, ns, meta.Name, meta.ResourceVersion, func(cur proto.Message) (proto.Message, error) {
		next := proto.Clone(cur)
		copyPart(next, obj, "status")
		if errs := validation.ValidateUpdate(next, cur); len(errs) > 0 {
			return nil, apierr.Invalid(r.Kind.Kind, objectMeta(next).Name, errs)
		}
		return next, nil
	})
}

// Mutate applies fn to the current object and stores the result with
// compare-and-swap, retrying on races. It skips validation: it is for the
// server's own changes (bindings).
func (r *Resource) Mutate(ctx context.Context, namespace, name string, fn func(cur proto.Message) error) (proto.Message, error) {
	return r.update(ctx, namespace, name, "", func(cur proto.Message) (proto.Message, error) {
		next := proto.Clone(cur)
		if err := fn(next); err != nil {
			return nil, err
		}
		return next, nil
	})
}

// keepServerMeta copies the fields only the server sets from cur to next.
func keepServerMeta(next, cur *metav1.ObjectMeta) {
	next.Name = cur.Name
	next.Namespace = cur.Namespace
	next.Uid = cur.Uid
	next.CreationTimestamp = cur.CreationTimestamp
	next.DeletionTimestamp = cur.DeletionTimestamp
	next.DeletionGracePeriodSeconds = cur.DeletionGracePeriodSeconds
	next.Generation = cur.Generation
	next.GenerateName = cur.GenerateName
	next.SelfLink = ""
}

// update is the read-modify-write loop behind every update. expectedRV, when
// set, must equal the stored revision; otherwise races are retried.
func (r *Resource) update(ctx context.Context, ns, name, expectedRV string, fn func(cur proto.Message) (proto.Message, error)) (proto.Message, error) {
	if name == "" {
		return nil, apierr.BadRequest("resource name may not be empty")
	}
	if expectedRV != "" {
		if _, err := strconv.ParseInt(expectedRV, 10, 64); err != nil {
			return nil, apierr.Invalid(r.Kind.Kind, name, validation.List{{Field: "metadata.resourceVersion", Type: validation.Invalid, Value: expectedRV, Detail: "must be a decimal revision"}})
		}
	}
	for {
		cur, rev, err := r.get(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		if expectedRV != "" && expectedRV != objectMeta(cur).ResourceVersion {
			return nil, apierr.StaleWrite(r.Kind.Resource, name)
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		objectMeta(next).ResourceVersion = objectMeta(cur).ResourceVersion
		if proto.Equal(next, cur) {
			return cur, nil
		}
		if r.finished(next) {
			if _, err := r.reg.store.Delete(ctx, r.Kind.Resource, r.key(ns, name), rev); err != nil {
				if errors.Is(err, storage.ErrConflict) && expectedRV == "" {
					continue
				}
				return nil, r.storageError(err, name)
			}
			if r.alloc != nil {
				r.alloc.Release(ctx, cur)
			}
			return next, nil
		}
		var alloc Allocation
		if r.alloc != nil {
			if alloc, err = r.alloc.Allocate(ctx, cur, next); err != nil {
				return nil, err
			}
		}
		data, err := r.encode(next)
		if err != nil {
			revert(ctx, alloc)
			return nil, err
		}
		newRev, err := r.reg.store.Update(ctx, r.Kind.Resource, r.key(ns, name), rev, data)
		if err != nil {
			revert(ctx, alloc)
		}
		if errors.Is(err, storage.ErrConflict) && expectedRV == "" {
			continue
		}
		if err != nil {
			return nil, r.storageError(err, name)
		}
		if alloc != nil {
			alloc.Commit(ctx)
		}
		objectMeta(next).ResourceVersion = strconv.FormatInt(newRev, 10)
		r.written(ns, name, newRev, next)
		return next, nil
	}
}

// finished says an object marked for deletion has no finalizers left and
// may go.
func (r *Resource) finished(obj proto.Message) bool {
	meta := objectMeta(obj)
	if meta.DeletionTimestamp == nil || len(meta.Finalizers) > 0 {
		return false
	}
	if g := meta.DeletionGracePeriodSeconds; g != nil && *g > 0 {
		return false // the node agent deletes it once its containers stopped
	}
	return r.hooks.finalizing == nil || !r.hooks.finalizing(obj)
}

// UpdateSubresource stores the current object with apply(next, sent)
// applied: apply copies from the sent object the fields the subresource
// owns (a CSR's approval conditions, its certificate). It is validated as
// an update; a non-empty resourceVersion makes it compare-and-swap.
func (r *Resource) UpdateSubresource(ctx context.Context, obj proto.Message, apply func(next, sent proto.Message)) (proto.Message, error) {
	if err := r.checkType(obj); err != nil {
		return nil, err
	}
	meta := objectMeta(obj)
	ns, err := r.namespaceOf(meta.Namespace)
	if err != nil {
		return nil, err
	}
	return r.update(ctx, ns, meta.Name, meta.ResourceVersion, func(cur proto.Message) (proto.Message, error) {
		next := proto.Clone(cur)
		apply(next, obj)
		if errs := validation.ValidateUpdate(next, cur); len(errs) > 0 {
			return nil, apierr.Invalid(r.Kind.Kind, objectMeta(next).Name, errs)
		}
		return next, nil
	})
}
