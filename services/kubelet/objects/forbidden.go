package objects

import (
	"context"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ForbiddenRetries are the waits before each retry of a list the
// apiserver refused with PermissionDenied: the node authoriser learns of
// a pod bound to the node through a watch of its own, which may lag the
// kubelet's by a moment, so the first list of a new pod's secret or
// config map can be refused. Bounded (700 ms in all); a refusal that
// persists is returned to the informer, which logs it and backs off.
var ForbiddenRetries = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

// RetryForbidden wraps src so that a list refused with PermissionDenied
// is retried after each of ForbiddenRetries, logged at debug on log; the
// watch is src's.
func RetryForbidden[L any, E any](src informer.Source[L, E], log *zap.Logger) informer.Source[L, E] {
	if log == nil {
		log = zap.NewNop()
	}
	return &forbiddenRetry[L, E]{Source: src, log: log}
}

type forbiddenRetry[L any, E any] struct {
	informer.Source[L, E]
	log *zap.Logger
}

func (f *forbiddenRetry[L, E]) List(ctx context.Context, in *metav1.ListOptions, opts ...grpc.CallOption) (L, error) {
	l, err := f.Source.List(ctx, in, opts...)
	for attempt, wait := range ForbiddenRetries {
		if status.Code(err) != codes.PermissionDenied {
			return l, err
		}
		f.log.Debug("object list forbidden, retrying", zap.Int("attempt", attempt+1), zap.Duration("wait", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return l, err
		case <-t.C:
		}
		l, err = f.Source.List(ctx, in, opts...)
	}
	return l, err
}
