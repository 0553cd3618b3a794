package storage_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/services/apiserver/storage"
)

// keyring seals with its current key id and opens only the ids it still
// holds, as the encryption package does across a key rotation.
type keyring struct {
	mu      sync.Mutex
	current string
	held    map[string]bool
}

func (k *keyring) Seal(_ string, plain []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]byte(k.current+":"), plain...), nil
}

func (k *keyring) Open(_ string, stored []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	id, v, ok := bytes.Cut(stored, []byte(":"))
	if !ok || !k.held[string(id)] {
		return nil, errors.New("no key " + string(id))
	}
	return v, nil
}

// rotate makes id the sealing key and forgets every other.
func (k *keyring) rotate(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.current, k.held = id, map[string]bool{id: true}
}

func next(t *testing.T, ctx context.Context, events <-chan storage.Event) storage.Event {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("watch ended")
		}
		return e
	case <-ctx.Done():
		t.Fatal("no watch event before the deadline")
	}
	return storage.Event{}
}

// A watch resuming from before a key rotation, after the old key was
// removed, gets each update without the previous value it can no longer
// open instead of failing.
func TestWatchToleratesUnopenablePrev(t *testing.T) {
	s := newStore(t)
	k := &keyring{current: "old", held: map[string]bool{"old": true}}
	s.Transform("/registry/secrets/", k)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const key = "/registry/secrets/default/a"
	created, err := s.Create(ctx, "secrets", key, []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	// Rotation: the value is sealed again with the new key, the old key goes.
	k.rotate("new")
	rev, err := s.Update(ctx, "secrets", key, created, []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "secrets", key, rev, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	events, werr := s.Watch(ctx, "/registry/secrets/", created, storage.WatchOptions{})
	first := next(t, ctx, events)
	if first.Type != storage.Put || string(first.Value) != "v1" || first.Prev != nil {
		t.Errorf("re-encryption event: type %v value %q prev %q; want a Put of v1 without prev", first.Type, first.Value, first.Prev)
	}
	second := next(t, ctx, events)
	if string(second.Value) != "v2" || string(second.Prev) != "v1" {
		t.Errorf("update event: value %q prev %q; want v2 with prev v1", second.Value, second.Prev)
	}
	cancel()
	for range events {
	}
	if err := werr(); err != nil {
		t.Errorf("watch ended with %v, want nil", err)
	}
}

// A delete whose previous value cannot be opened would be a delete of an
// unknown object: the watch fails rather than drop it.
func TestWatchFailsOnUnopenableDeletedPrev(t *testing.T) {
	s := newStore(t)
	k := &keyring{current: "old", held: map[string]bool{"old": true}}
	s.Transform("/registry/secrets/", k)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const key = "/registry/secrets/default/a"
	created, err := s.Create(ctx, "secrets", key, []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	k.rotate("new")
	events, werr := s.Watch(ctx, "/registry/secrets/", created, storage.WatchOptions{})
	for e := range events {
		t.Errorf("got %v event for %s, want none", e.Type, e.Key)
	}
	if err := werr(); err == nil || !strings.Contains(err.Error(), "no key old") {
		t.Errorf("watch ended with %v, want the open error", err)
	}
}
