package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/google/uuid"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/defaults"
	"github.com/tugboat-sh/tugboat/machinery/validation"
	"github.com/tugboat-sh/tugboat/services/apiserver/apierr"
	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
	"google.golang.org/protobuf/proto"
)

// Create stores a new object: defaulted, validated, with server-owned
// metadata, in a namespace that exists. It returns the stored object.
func (r *Resource) Create(ctx context.Context, obj proto.Message) (proto.Message, error) {
	s, err := r.CreateStored(ctx, obj)
	return s.Object, err
}

// CreateStored is Create, returning what was stored (see Stored.Wire).
func (r *Resource) CreateStored(ctx context.Context, obj proto.Message) (Stored, error) {
	if err := r.checkType(obj); err != nil {
		return Stored{}, err
	}
	meta := objectMeta(obj)
	if r.Kind.Namespaced {
		if meta.Namespace == "" {
			meta.Namespace = "default"
		}
	} else {
		meta.Namespace = ""
	}
	if meta.Name == "" && meta.GenerateName == "" {
		return Stored{}, apierr.Invalid(r.Kind.Kind, "", validation.List{{Field: "metadata.name", Type: validation.Required, Detail: "name or generateName is required"}})
	}
	meta.Uid = uuid.NewString()
	meta.CreationTimestamp = now()
	meta.ResourceVersion = ""
	meta.Generation = 1
	meta.DeletionTimestamp = nil
	meta.DeletionGracePeriodSeconds = nil
	meta.SelfLink = ""
	if hasField(obj, "status") && !r.hooks.keepStatusOnCreate {
		obj.ProtoReflect().Clear(field(obj, "status"))
	}
	defaults.Apply(obj)
	if r.hooks.prepareForCreate != nil {
		r.hooks.prepareForCreate(obj)
	}
	if r.admit != nil {
		if err := r.admit(ctx, nil, obj); err != nil {
			return Stored{}, err
		}
	}
	generated := meta.Name == ""
	var base proto.Message // obj before allocation, for another attempt
	if r.alloc != nil {
		base = proto.Clone(obj)
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 && base != nil {
			proto.Reset(obj)
			proto.Merge(obj, base)
			meta = objectMeta(obj)
		}
		if generated {
			meta.Name = generateName(meta.GenerateName)
		}
		if errs := validation.Validate(obj); len(errs) > 0 {
			return Stored{}, apierr.Invalid(r.Kind.Kind, meta.Name, errs)
		}
		if err := r.checkNamespace(ctx, meta.Namespace); err != nil {
			return Stored{}, err
		}
		var alloc Allocation
		if r.alloc != nil {
			var err error
			if alloc, err = r.alloc.Allocate(ctx, nil, obj); err != nil {
				return Stored{}, err
			}
		}
		data, err := r.encode(obj)
		if err != nil {
			revert(ctx, alloc)
			return Stored{}, err
		}
		rev, err := r.reg.store.Create(ctx, r.Kind.Resource, r.key(meta.Namespace, meta.Name), data)
		if err != nil {
			revert(ctx, alloc)
		}
		if errors.Is(err, storage.ErrExists) && generated && attempt < 5 {
			continue
		}
		if err != nil {
			return Stored{}, r.storageError(err, meta.Name)
		}
		if alloc != nil {
			alloc.Commit(ctx)
		}
		// obj is what was stored: hand it back, and to the watch cache,
		// rather than decode the bytes.
		meta.ResourceVersion = strconv.FormatInt(rev, 10)
		r.written(meta.Namespace, meta.Name, rev, obj)
		return Stored{Object: obj, data: data, rev: rev}, nil
	}
}

// checkType refuses an object whose apiVersion or kind names another kind.
func (r *Resource) checkType(obj proto.Message) error {
	apiVersion, kind := typeMeta(obj)
	if kind != "" && kind != r.Kind.Kind {
		return apierr.BadRequest("the kind %q of the object does not match the resource %q (want kind %q)", kind, r.Kind.Resource, r.Kind.Kind)
	}
	if apiVersion != "" && apiVersion != r.Kind.APIVersion() {
		return apierr.BadRequest("the apiVersion %q of the object does not match the resource %q (want %q)", apiVersion, r.Kind.Resource, r.Kind.APIVersion())
	}
	return nil
}

// checkNamespace refuses objects in a namespace that does not exist or is
// being terminated.
func (r *Resource) checkNamespace(ctx context.Context, ns string) error {
	if !r.Kind.Namespaced || r.reg.cachedNamespace(ns) {
		return nil
	}
	nsRes := r.reg.Resource("namespaces")
	kv, err := r.reg.store.Get(ctx, "namespaces", nsRes.key("", ns), true)
	if errors.Is(err, storage.ErrNotFound) {
		return apierr.NotFound("namespaces", ns)
	}
	if err != nil {
		return fmt.Errorf("check namespace %s: %w", ns, err)
	}
	obj, err := nsRes.decode(kv.Value, kv.ModRevision)
	if err != nil {
		return err
	}
	if n := obj.(*corev1.Namespace); n.GetMetadata().GetDeletionTimestamp() != nil || n.GetStatus().GetPhase() == "Terminating" {
		return apierr.Forbidden(r.Kind.Resource, "", fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// generateName appends five random characters from Kubernetes' alphabet,
// which avoids vowels and look-alike digits.
func generateName(base string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	const maxBase = 63 - 5
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return base + string(b)
}
