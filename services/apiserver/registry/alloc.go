package registry

import (
	"context"

	"google.golang.org/protobuf/proto"
)

// Allocator reserves cluster-wide values an object holds outside its own
// key (a Service's cluster IP and node ports). The registry allocates
// before it stores, reverts when the store fails, commits once it stored,
// and releases what a deleted object held.
type Allocator interface {
	// Allocate reserves what next needs and cur (nil on create) does not
	// hold, and writes the values into next.
	Allocate(ctx context.Context, cur, next proto.Message) (Allocation, error)
	// Release frees what a deleted object held.
	Release(ctx context.Context, obj proto.Message)
}

// Allocation is one Allocate's result.
type Allocation interface {
	// Commit frees what only the old object held.
	Commit(ctx context.Context)
	// Revert frees what was allocated.
	Revert(ctx context.Context)
}

// revert gives back an allocation, if any, for an object that was not stored.
func revert(ctx context.Context, a Allocation) {
	if a != nil {
		a.Revert(ctx)
	}
}
