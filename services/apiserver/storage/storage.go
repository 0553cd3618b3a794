// Package storage is the apiserver's one generic etcd-backed store. It keeps
// opaque values under keys, with etcd's mod revision as resourceVersion:
// creates fail when the key exists, updates and deletes are compare-and-swap on
// the revision, lists are consistent snapshots read at one revision and paged
// with continue tokens, and watches resume from a revision. It knows nothing
// of API kinds; the registry package decodes what it stores.
package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Sentinel errors; the registry maps them to API errors.
var (
	ErrNotFound  = errors.New("storage: key not found")
	ErrExists    = errors.New("storage: key exists")
	ErrConflict  = errors.New("storage: revision changed")
	ErrCompacted = errors.New("storage: revision compacted")
	ErrContinue  = errors.New("storage: invalid continue token")
)

// KV is one stored value with its revisions.
type KV struct {
	Key []byte
	// Value is the stored bytes.
	Value []byte
	// ModRevision is the revision of the last write: the resourceVersion.
	ModRevision    int64
	CreateRevision int64
}

// Store reads and writes keys in etcd.
type Store struct {
	client     *clientv3.Client
	metrics    *Metrics
	transforms []transform // set before the store is used
}

// New returns a store over an etcd client. metrics may be nil.
func New(client *clientv3.Client, metrics *Metrics) *Store {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	return &Store{client: client, metrics: metrics}
}

// Client is the underlying etcd client.
func (s *Store) Client() *clientv3.Client { return s.client }

func (s *Store) observe(op, resource string, start time.Time) {
	s.metrics.latency.WithLabelValues(op, resource).Observe(time.Since(start).Seconds())
}

// Create stores value under key if the key does not exist. It returns the
// revision of the write.
func (s *Store) Create(ctx context.Context, resource, key string, value []byte) (int64, error) {
	defer s.observe("create", resource, time.Now())
	value, err := s.toStorage(key, value)
	if err != nil {
		return 0, err
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, ErrExists
	}
	return resp.Header.Revision, nil
}

// Get reads one key. serializable reads may be served from the local member
// without a quorum round trip.
func (s *Store) Get(ctx context.Context, resource, key string, serializable bool) (*KV, error) {
	defer s.observe("get", resource, time.Now())
	opts := []clientv3.OpOption{}
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := s.client.Get(ctx, key, opts...)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNotFound
	}
	kv := resp.Kvs[0]
	value, err := s.fromStorage(key, kv.Value)
	if err != nil {
		return nil, err
	}
	return &KV{Key: kv.Key, Value: value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision}, nil
}

// Update writes value under key if its mod revision is still rev.
func (s *Store) Update(ctx context.Context, resource, key string, rev int64, value []byte) (int64, error) {
	defer s.observe("update", resource, time.Now())
	value, err := s.toStorage(key, value)
	if err != nil {
		return 0, err
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Delete removes key if its mod revision is still rev. It returns the
// revision of the delete.
func (s *Store) Delete(ctx context.Context, resource, key string, rev int64) (int64, error) {
	defer s.observe("delete", resource, time.Now())
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, ErrConflict
	}
	return resp.Header.Revision, nil
}

// Count returns how many keys lie under prefix.
func (s *Store) Count(ctx context.Context, resource, prefix string) (int64, error) {
	defer s.observe("count", resource, time.Now())
	resp, err := s.client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithSerializable())
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", prefix, err)
	}
	return resp.Count, nil
}

// Compact discards history before rev.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	_, err := s.client.Compact(ctx, rev)
	if err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compact to %d: %w", rev, err)
	}
	return nil
}

// Available returns ErrCompacted when etcd no longer holds revision rev, so
// that a watch from it cannot be served; a future revision is available.
func (s *Store) Available(ctx context.Context, rev int64) error {
	_, err := s.client.Get(ctx, "/registry/health-revision", clientv3.WithRev(rev), clientv3.WithCountOnly(), clientv3.WithSerializable())
	switch {
	case err == nil, errors.Is(err, rpctypes.ErrFutureRev):
		return nil
	case compacted(err):
		return fmt.Errorf("%w: revision %d", ErrCompacted, rev)
	}
	return fmt.Errorf("check revision %d: %w", rev, err)
}

// CurrentRevision is the store's latest revision.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, "/registry/health-revision", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// compacted reports whether err says the revision was compacted.
func compacted(err error) bool {
	return errors.Is(err, rpctypes.ErrCompacted)
}

// Metrics are the store's Prometheus metrics.
type Metrics struct {
	latency *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them on reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tugboat_apiserver_etcd_request_duration_seconds",
		Help:    "Latency of etcd requests by operation and resource.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"operation", "resource"})}
	if reg != nil {
		reg.MustRegister(m.latency)
	}
	return m
}
