package objects

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tugboat-sh/tugboat/client/informer"
	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// refusingSource refuses the first refusals lists with err, then lists
// secret a/db; its watch waits for the call's end.
type refusingSource struct {
	refusals int32
	err      error
	lists    atomic.Int32
}

func (s *refusingSource) List(_ context.Context, _ *metav1.ListOptions, _ ...grpc.CallOption) (*corev1.SecretList, error) {
	if n := s.lists.Add(1); n <= s.refusals {
		return nil, s.err
	}
	return &corev1.SecretList{Items: []*corev1.Secret{secret("a", "db", "1")}, Metadata: &metav1.ListMeta{ResourceVersion: "1"}}, nil
}

func (s *refusingSource) Watch(ctx context.Context, _ *metav1.ListOptions, _ ...grpc.CallOption) (grpc.ServerStreamingClient[corev1.SecretWatchEvent], error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

var forbidden = status.Error(codes.PermissionDenied, `user "system:node:n1" cannot list resource "secrets": no relationship found`)

func TestRetryForbidden(t *testing.T) {
	var all time.Duration
	for _, d := range ForbiddenRetries {
		all += d
	}
	tests := []struct {
		name      string
		refusals  int32
		err       error
		wantCode  codes.Code
		wantLists int32
		wantDebug int
		minTime   time.Duration
	}{
		{name: "allowed at once", refusals: 0, err: forbidden, wantCode: codes.OK, wantLists: 1},
		{name: "forbidden once, then allowed", refusals: 1, err: forbidden, wantCode: codes.OK, wantLists: 2, wantDebug: 1, minTime: ForbiddenRetries[0]},
		{name: "forbidden for good: bounded", refusals: 100, err: forbidden, wantCode: codes.PermissionDenied, wantLists: int32(len(ForbiddenRetries)) + 1, wantDebug: len(ForbiddenRetries), minTime: all},
		{name: "other errors are not retried", refusals: 1, err: status.Error(codes.Unavailable, "down"), wantCode: codes.Unavailable, wantLists: 1},
		{name: "unauthenticated is not retried", refusals: 1, err: status.Error(codes.Unauthenticated, "who"), wantCode: codes.Unauthenticated, wantLists: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &refusingSource{refusals: tt.refusals, err: tt.err}
			core, logs := observer.New(zapcore.DebugLevel)
			r := RetryForbidden[*corev1.SecretList, corev1.SecretWatchEvent](src, zap.New(core))
			start := time.Now()
			l, err := r.List(context.Background(), &metav1.ListOptions{Namespace: "a", FieldSelector: "metadata.name=db"})
			took := time.Since(start)
			if status.Code(err) != tt.wantCode {
				t.Fatalf("List = %v, want code %v", err, tt.wantCode)
			}
			if err == nil && len(l.GetItems()) != 1 {
				t.Errorf("List gave %d items, want 1", len(l.GetItems()))
			}
			if n := src.lists.Load(); n != tt.wantLists {
				t.Errorf("%d lists, want %d", n, tt.wantLists)
			}
			debug := logs.FilterMessage("object list forbidden, retrying")
			if debug.Len() != tt.wantDebug || debug.FilterLevelExact(zapcore.DebugLevel).Len() != tt.wantDebug {
				t.Errorf("%d retry logs (%d at debug), want %d at debug", debug.Len(), debug.FilterLevelExact(zapcore.DebugLevel).Len(), tt.wantDebug)
			}
			if took < tt.minTime || took > tt.minTime+2*time.Second {
				t.Errorf("List took %v, want about %v", took, tt.minTime)
			}
		})
	}
	t.Run("ends with its context", func(t *testing.T) {
		src := &refusingSource{refusals: 100, err: forbidden}
		r := RetryForbidden[*corev1.SecretList, corev1.SecretWatchEvent](src, nil)
		ctx, cancel := context.WithTimeout(context.Background(), ForbiddenRetries[0]/2)
		defer cancel()
		start := time.Now()
		if _, err := r.List(ctx, &metav1.ListOptions{}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("List = %v, want the refusal", err)
		}
		if took := time.Since(start); took >= ForbiddenRetries[0] || src.lists.Load() != 1 {
			t.Errorf("List took %v and %d lists after its context ended, want 1 list and no wait", took, src.lists.Load())
		}
	})
}

// TestStoreForbiddenOnce: a store whose first list of an object the node
// authoriser refuses (it had not seen the pod yet) still answers Get
// with the object within SyncWait, and logs nothing above debug.
func TestStoreForbiddenOnce(t *testing.T) {
	src := &refusingSource{refusals: 2, err: forbidden}
	core, logs := observer.New(zapcore.DebugLevel)
	st := New("Secret", func(o informer.Options) *informer.Informer[*corev1.Secret] {
		return informer.New(RetryForbidden[*corev1.SecretList, corev1.SecretWatchEvent](src, o.Logger), o)
	}, zap.New(core))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if !st.WaitRunning(ctx) {
		t.Fatal("the store did not start")
	}
	st.Set("pod1", []Key{{"a", "db"}})
	s, ok := st.Get("a", "db")
	if !ok || string(s.GetData()["k"]) != "1" {
		t.Fatalf("Get = %v, %v, want a/db after the refused lists", s, ok)
	}
	if n := src.lists.Load(); n != 3 {
		t.Errorf("%d lists, want 2 refused and 1 allowed", n)
	}
	if loud := logs.FilterLevelExact(zapcore.InfoLevel).Len() + logs.FilterLevelExact(zapcore.WarnLevel).Len() + logs.FilterLevelExact(zapcore.ErrorLevel).Len(); loud != 0 {
		t.Errorf("%d log entries above debug, want none: %v", loud, logs.All())
	}
	if n := logs.FilterMessage("object list forbidden, retrying").FilterField(zap.String("name", "db")).Len(); n != 2 {
		t.Errorf("%d debug retry logs naming the object, want 2", n)
	}
}
