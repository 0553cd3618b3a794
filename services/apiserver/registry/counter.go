package registry

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// CountObjects refreshes the objects-per-resource gauge every interval until
// ctx ends.
func (r *Registry) CountObjects(ctx context.Context, interval time.Duration, log *zap.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, res := range r.Resources() {
			n, err := r.store.Count(ctx, res.Kind.Resource, res.prefix(""))
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("count objects failed", zap.String("resource", res.Kind.Resource), zap.Error(err))
				}
				continue
			}
			r.metrics.Objects.WithLabelValues(res.Kind.Resource).Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
