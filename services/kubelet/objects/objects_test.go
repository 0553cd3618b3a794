package objects

import (
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/fake"
	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// secrets serves a fake store's secrets over gRPC, refusing what the node
// authoriser refuses (a list or watch not for one object by name in a
// namespace) and counting the watches open per field selector.
type secrets struct {
	corev1.UnimplementedSecretServiceServer
	store *fake.Store[*corev1.Secret]
	mu    sync.Mutex
	open  map[string]int
	wide  atomic.Int32
}

func (s *secrets) check(o *metav1.ListOptions) error {
	if o.GetNamespace() == "" || len(o.GetFieldSelector()) <= len("metadata.name=") || o.GetFieldSelector()[:len("metadata.name=")] != "metadata.name=" {
		s.wide.Add(1)
		return status.Errorf(codes.PermissionDenied, "a node reads secrets only by name: namespace %q fieldSelector %q", o.GetNamespace(), o.GetFieldSelector())
	}
	return nil
}

func (s *secrets) List(_ context.Context, o *metav1.ListOptions) (*corev1.SecretList, error) {
	if err := s.check(o); err != nil {
		return nil, err
	}
	items, meta, err := s.store.List(o)
	if err != nil {
		return nil, err
	}
	return &corev1.SecretList{Items: items, Metadata: meta}, nil
}

func (s *secrets) Watch(o *metav1.ListOptions, stream grpc.ServerStreamingServer[corev1.SecretWatchEvent]) error {
	if err := s.check(o); err != nil {
		return err
	}
	s.mu.Lock()
	s.open[o.GetFieldSelector()]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open[o.GetFieldSelector()]--
		s.mu.Unlock()
	}()
	return s.store.Watch(stream.Context(), o, func(typ string, obj *corev1.Secret) error {
		return stream.Send(&corev1.SecretWatchEvent{Type: typ, Object: obj})
	})
}

func (s *secrets) watching(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open["metadata.name="+name]
}

func serve(t *testing.T) (*secrets, corev1.SecretServiceClient) {
	t.Helper()
	srv := &secrets{store: fake.NewStore[*corev1.Secret](), open: map[string]int{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	corev1.RegisterSecretServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return srv, corev1.NewSecretServiceClient(conn)
}

func secret(ns, name, v string) *corev1.Secret {
	return &corev1.Secret{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"k": []byte(v)}}
}

func poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStore(t *testing.T) {
	srv, client := serve(t)
	for _, s := range []*corev1.Secret{secret("a", "db", "1"), secret("a", "tls", "x"), secret("b", "db", "other"), secret("a", "unused", "u")} {
		if _, err := srv.store.Create(s); err != nil {
			t.Fatal(err)
		}
	}
	st := New("Secret", func(o informer.Options) *informer.Informer[*corev1.Secret] {
		o.Backoff = informer.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}
		return informer.New(client, o)
	}, nil)
	var changedMu sync.Mutex
	var changed []Key
	st.OnChange(func(k Key) { changedMu.Lock(); changed = append(changed, k); changedMu.Unlock() })
	sawChange := func(k Key) func() bool {
		return func() bool { changedMu.Lock(); defer changedMu.Unlock(); return slices.Contains(changed, k) }
	}
	db, tls, bdb := Key{"a", "db"}, Key{"a", "tls"}, Key{"b", "db"}
	// Registered before Run: started by Run.
	st.Set("pod1", []Key{db, tls, db})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if !st.WaitRunning(ctx) {
		t.Fatal("the store did not start")
	}
	st.Set("pod2", []Key{db})
	st.Set("pod3", []Key{bdb})

	t.Run("each used object is watched by name", func(t *testing.T) {
		if got := st.Watching(); !slices.Equal(got, []Key{db, tls, bdb}) {
			t.Fatalf("watching %v", got)
		}
		for _, k := range []Key{db, tls, bdb} {
			s, ok := st.Get(k.Namespace, k.Name)
			if !ok || s.GetMetadata().GetName() != k.Name || s.GetMetadata().GetNamespace() != k.Namespace {
				t.Errorf("Get(%v) = %v, %v", k, s, ok)
			}
		}
		if _, ok := st.Get("a", "unused"); ok {
			t.Error("a secret no pod uses was read")
		}
		if n := srv.wide.Load(); n != 0 {
			t.Errorf("%d lists or watches wider than one object", n)
		}
		for _, o := range append(srv.store.ListRequests(), srv.store.WatchRequests()...) {
			if o.GetNamespace() == "" || o.GetFieldSelector() == "" {
				t.Errorf("request %v is not for one object", o)
			}
		}
	})
	t.Run("a change is reported and read", func(t *testing.T) {
		poll(t, "the first list of a/db is reported", sawChange(db))
		changedMu.Lock()
		changed = nil
		changedMu.Unlock()
		if _, err := srv.store.Update(secret("a", "db", "2")); err != nil {
			t.Fatal(err)
		}
		poll(t, "the update of a/db is reported", sawChange(db))
		poll(t, "the update of a/db is read", func() bool {
			s, ok := st.Get("a", "db")
			return ok && string(s.GetData()["k"]) == "2"
		})
		if sawChange(tls)() {
			t.Error("a/tls reported changed")
		}
	})
	t.Run("a deleted object is not found", func(t *testing.T) {
		if _, err := srv.store.Delete("b", "db"); err != nil {
			t.Fatal(err)
		}
		poll(t, "b/db is gone", func() bool { _, ok := st.Get("b", "db"); return !ok })
	})
	t.Run("the last pod gone stops the watch", func(t *testing.T) {
		poll(t, "a/tls is watched", func() bool { return srv.watching("tls") == 1 })
		st.Forget("pod1") // db still used by pod2
		poll(t, "a/tls's watch ends", func() bool { return srv.watching("tls") == 0 })
		if got := st.Watching(); !slices.Equal(got, []Key{db, bdb}) {
			t.Fatalf("watching %v", got)
		}
		if _, ok := st.Get("a", "tls"); ok {
			t.Error("a secret no pod uses any more was read")
		}
		st.Set("pod2", []Key{tls}) // pod2 now uses tls instead of db
		st.Forget("pod3")
		if got := st.Watching(); !slices.Equal(got, []Key{tls}) {
			t.Fatalf("watching %v", got)
		}
		poll(t, "only a/tls is watched", func() bool {
			return srv.watching("tls") == 1 && srv.watching("db") == 0
		})
		st.Forget("pod2")
		if got := st.Watching(); len(got) != 0 {
			t.Fatalf("watching %v after every pod went", got)
		}
		poll(t, "no watch is open", func() bool { return srv.watching("tls")+srv.watching("db") == 0 })
	})
}
