package etcd

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/peer"
)

// The apiserver reaches its embedded etcd in process: the contexts of its
// calls are its own requests', which carry the gRPC peer of the apiserver's
// caller. An etcd with client-certificate authentication reads a TLS peer
// there as its own client (and panics on any other), so the peer is hidden
// from it: the apiserver is the client, not whoever called the apiserver.

// anonymous hides the caller's gRPC peer from the embedded etcd.
func anonymous(ctx context.Context) context.Context {
	if _, ok := peer.FromContext(ctx); !ok {
		return ctx
	}
	return peer.NewContext(ctx, &peer.Peer{})
}

// inProcess wraps the in-process client's KV and Watcher with anonymous.
func inProcess(c *clientv3.Client) *clientv3.Client {
	c.KV = inProcKV{c.KV}
	c.Watcher = inProcWatcher{c.Watcher}
	return c
}

type inProcKV struct{ clientv3.KV }

func (k inProcKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	return k.KV.Put(anonymous(ctx), key, val, opts...)
}

func (k inProcKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	return k.KV.Get(anonymous(ctx), key, opts...)
}

func (k inProcKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	return k.KV.Delete(anonymous(ctx), key, opts...)
}

func (k inProcKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	return k.KV.Compact(anonymous(ctx), rev, opts...)
}

func (k inProcKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	return k.KV.Do(anonymous(ctx), op)
}

func (k inProcKV) Txn(ctx context.Context) clientv3.Txn { return k.KV.Txn(anonymous(ctx)) }

type inProcWatcher struct{ clientv3.Watcher }

func (w inProcWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	return w.Watcher.Watch(anonymous(ctx), key, opts...)
}

func (w inProcWatcher) RequestProgress(ctx context.Context) error {
	return w.Watcher.RequestProgress(anonymous(ctx))
}
