package storage_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// rot13 is a toy transformer that also checks it gets the etcd key.
type rot13 struct{ t *testing.T }

func (r rot13) flip(key string, v []byte) []byte {
	if !bytes.HasPrefix([]byte(key), []byte("/registry/secrets/")) {
		r.t.Errorf("transformer called for %s", key)
	}
	out := make([]byte, len(v))
	for i, b := range v {
		out[i] = b ^ 0x20
	}
	return out
}

func (r rot13) Seal(key string, plain []byte) ([]byte, error) {
	return append([]byte("T:"), r.flip(key, plain)...), nil
}

func (r rot13) Open(key string, stored []byte) ([]byte, error) {
	v, ok := bytes.CutPrefix(stored, []byte("T:"))
	if !ok {
		return nil, errors.New("not sealed")
	}
	return r.flip(key, v), nil
}

// Values under a transformed prefix are sealed in etcd and opened for
// every reader: get, list and watch (new and previous values); other
// prefixes are untouched.
func TestTransform(t *testing.T) {
	s := newStore(t)
	s.Transform("/registry/secrets/", rot13{t})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const key = "/registry/secrets/default/a"
	events, _ := s.Watch(ctx, "/registry/secrets/", 0, storage.WatchOptions{})
	rev, err := s.Create(ctx, "secrets", key, []byte("plain"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "secrets", key, rev, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "pods", "/registry/pods/default/a", []byte("pod")); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Client().Get(ctx, key)
	if err != nil || len(raw.Kvs) != 1 || !bytes.HasPrefix(raw.Kvs[0].Value, []byte("T:")) || bytes.Contains(raw.Kvs[0].Value, []byte("second")) {
		t.Fatalf("etcd holds %q, %v; want it sealed", raw.Kvs[0].Value, err)
	}
	if pod, _ := s.Client().Get(ctx, "/registry/pods/default/a"); string(pod.Kvs[0].Value) != "pod" {
		t.Errorf("an untransformed prefix was changed: %q", pod.Kvs[0].Value)
	}
	if kv, err := s.Get(ctx, "secrets", key, false); err != nil || string(kv.Value) != "second" {
		t.Errorf("get = %q, %v", kv.Value, err)
	}
	l, err := s.List(ctx, "secrets", "/registry/secrets/", storage.ListOptions{})
	if err != nil || len(l.Items) != 1 || string(l.Items[0].Value) != "second" {
		t.Errorf("list = %v, %v", l, err)
	}
	first, second := <-events, <-events
	if string(first.Value) != "plain" || string(second.Value) != "second" || string(second.Prev) != "plain" {
		t.Errorf("watch events %q, %q (prev %q)", first.Value, second.Value, second.Prev)
	}
}
