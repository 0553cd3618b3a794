package objects

import (
	"context"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
)

// hangingSource answers no list: each blocks until its call ends.
type hangingSource struct{}

func (hangingSource) List(ctx context.Context, _ *metav1.ListOptions, _ ...grpc.CallOption) (*corev1.SecretList, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingSource) Watch(ctx context.Context, _ *metav1.ListOptions, _ ...grpc.CallOption) (grpc.ServerStreamingClient[corev1.SecretWatchEvent], error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func hangingStore() *Store[*corev1.Secret] {
	return New("Secret", func(o informer.Options) *informer.Informer[*corev1.Secret] {
		return informer.New[*corev1.Secret, *corev1.SecretList, corev1.SecretWatchEvent](hangingSource{}, o)
	}, nil)
}

// quickGet calls Get and fails the test unless it answers not-found well
// before SyncWait.
func quickGet(t *testing.T, st *Store[*corev1.Secret], k Key) {
	t.Helper()
	start := time.Now()
	if _, ok := st.Get(k.Namespace, k.Name); ok {
		t.Fatal("found an object that was never listed")
	}
	if d := time.Since(start); d > SyncWait/5 {
		t.Fatalf("Get took %v, want not-found at once", d)
	}
}

// TestGetDoesNotWait: Get answers not-found at once when nothing can sync
// the object: the store is not running (yet, or any more), or the object
// is unregistered while Get waits.
func TestGetDoesNotWait(t *testing.T) {
	k := Key{"a", "db"}
	t.Run("store not running yet", func(t *testing.T) {
		st := hangingStore()
		st.Set("pod1", []Key{k})
		quickGet(t, st, k)
	})
	t.Run("store stopped", func(t *testing.T) {
		st := hangingStore()
		st.Set("pod1", []Key{k})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { st.Run(ctx); close(done) }()
		cancel()
		<-done
		quickGet(t, st, k)
		st.Set("pod2", []Key{{"a", "other"}}) // registered after the end
		quickGet(t, st, Key{"a", "other"})
	})
	t.Run("unregistered while Get waits", func(t *testing.T) {
		st := hangingStore()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { st.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		if !st.WaitRunning(ctx) {
			t.Fatal("the store did not start")
		}
		st.Set("pod1", []Key{k})
		got := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			_, _ = st.Get(k.Namespace, k.Name)
			got <- time.Since(start)
		}()
		time.Sleep(50 * time.Millisecond) // let Get start waiting; not a wait for an outcome
		st.Forget("pod1")
		select {
		case d := <-got:
			if d > SyncWait/5 {
				t.Fatalf("Get took %v after the object was unregistered", d)
			}
		case <-time.After(SyncWait / 2):
			t.Fatal("Get still waits after the object was unregistered")
		}
	})
	t.Run("running store still waits for a first list", func(t *testing.T) {
		st := hangingStore()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { st.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		if !st.WaitRunning(ctx) {
			t.Fatal("the store did not start")
		}
		st.Set("pod1", []Key{k})
		got := make(chan struct{})
		go func() { _, _ = st.Get(k.Namespace, k.Name); close(got) }()
		select {
		case <-got:
			t.Fatal("Get answered before its watch's first list or SyncWait")
		case <-time.After(200 * time.Millisecond):
		}
	})
}
